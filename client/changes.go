package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/clouddrive/clouddrive/acd"
)

// ChangesOptions tune Changes.
type ChangesOptions struct {
	// Checkpoint is where the last sync stopped; empty asks for the full
	// state (the first ChangeSet then has Reset set).
	Checkpoint string
	// IncludePurged reports purged nodes (status PURGED) so a cache can
	// drop them. Full listings never include them.
	IncludePurged bool
	// ChunkSize is the number of nodes per ChangeSet; 0 lets the server
	// choose.
	ChunkSize int
	// MaxNodes bounds the nodes of each request; the iterator follows the
	// checkpoints with further requests until the feed is complete. 0
	// means no bound.
	MaxNodes int
	// Wait makes a request with a Checkpoint a long poll (a clouddrive
	// extension; ACD ignores it): the server holds it until something
	// changes after the checkpoint or Wait (at most 60 s) passes, then
	// replies as usual, with an empty set when nothing changed. 0 replies
	// at once.
	Wait time.Duration
}

// changeLine is one line of the stream: a ChangeSet or the end marker.
type changeLine struct {
	acd.ChangeSet
	End bool `json:"end"`
}

// Changes iterates over the changes feed (POST changes) from
// o.Checkpoint to now. Each ChangeSet carries the nodes in their current
// state and a checkpoint; a caller that applies the sets in order and
// saves each one's checkpoint can stop at any point and carry on later
// from there. When a response ends without the end marker (MaxNodes, or
// a cut connection) the iterator asks again from the last checkpoint it
// saw; a request that makes no progress counts against the retry policy.
// A ChangeSet with Reset set means the caller must drop everything it
// knows first. Iteration stops at the first error, yielded with a nil set.
func (c *Client) Changes(ctx context.Context, o ChangesOptions) iter.Seq2[*acd.ChangeSet, error] {
	return func(yield func(*acd.ChangeSet, error) bool) {
		cp := o.Checkpoint
		fails := 0
		for {
			progressed, complete, err := c.changesOnce(ctx, o, cp, func(set *acd.ChangeSet) bool {
				cp = set.Checkpoint
				return yield(set, nil)
			})
			if err == errStop {
				return
			}
			if complete {
				return
			}
			if progressed {
				fails = 0
				continue // MaxNodes or a cut stream: follow the checkpoint
			}
			if err == nil {
				err = fmt.Errorf("client.Changes: stream ended without progress or end marker")
			}
			if classify(ctx, err) == permanent && !errors.Is(err, errTruncated) || fails+1 >= c.retry.MaxAttempts {
				yield(nil, err)
				return
			}
			wait := c.retry.Delay(fails, 0)
			fails++
			c.log.DebugContext(ctx, "changes stream failed; retrying", "wait", wait, "err", err)
			if serr := c.retry.Sleep(ctx, wait); serr != nil {
				yield(nil, err)
				return
			}
		}
	}
}

// errStop is returned by changesOnce when the consumer stopped.
var errStop = errors.New("stop")

func (c *Client) changesOnce(ctx context.Context, o ChangesOptions, cp string, emit func(*acd.ChangeSet) bool) (progressed, complete bool, err error) {
	in := acd.ChangesRequest{Checkpoint: cp, ChunkSize: o.ChunkSize, MaxNodes: o.MaxNodes}
	if o.Wait > 0 && cp != "" {
		in.Wait = min(o.Wait, 60*time.Second).Seconds()
	}
	if o.IncludePurged {
		in.IncludePurged = "true"
	}
	// Reading the feed changes nothing: the POST is safe to repeat.
	resp, err := c.do(ctx, &request{op: "client.Changes", method: "POST", path: "changes", in: in, idempotent: true}, nil)
	if err != nil {
		return false, false, err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(resp.Body, 64<<10))
	for {
		var line changeLine
		if err := dec.Decode(&line); err != nil {
			if err == io.EOF {
				return progressed, false, nil
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = errTruncated
			}
			return progressed, false, fmt.Errorf("client.Changes: %w", err)
		}
		if line.End {
			return progressed, true, nil
		}
		if line.StatusCode != 0 && line.StatusCode != 200 {
			return progressed, false, fmt.Errorf("client.Changes: change set with statusCode %d", line.StatusCode)
		}
		set := line.ChangeSet
		if set.Nodes == nil {
			set.Nodes = []*acd.Node{}
		}
		if !emit(&set) {
			return true, false, errStop
		}
		progressed = true
	}
}
