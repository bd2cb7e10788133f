package httpapi

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clouddrive/clouddrive/acd"
	"github.com/clouddrive/clouddrive/internal/changes"
	"github.com/clouddrive/clouddrive/internal/drive"
)

// changesBody accepts includePurged as a string ("true", as go-acd and
// acd_cli send it) or a boolean.
type changesBody struct {
	Checkpoint    string          `json:"checkpoint"`
	ChunkSize     int             `json:"chunkSize"`
	MaxNodes      int             `json:"maxNodes"`
	IncludePurged json.RawMessage `json:"includePurged"`
	// Wait is a clouddrive extension: seconds (at most 60) to hold the
	// request until something changes after checkpoint.
	Wait float64 `json:"wait"`
}

func parseBool(raw json.RawMessage) (bool, error) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	switch strings.ToLower(s) {
	case "", "false", "null", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, &drive.Error{Op: "httpapi.changes", Kind: drive.Invalid, Param: "includePurged", Message: "includePurged must be true or false"}
}

// changesEnd closes a complete changes stream: acd.ChangesEnd as ACD
// wrote it, without a trailing newline.
const changesEnd = `{"end":true}`

// postChanges streams the changes feed: one JSON object per line, each
// ended by '\n', then {"end":true} with no newline after it, as ACD sent
// it (omitted when maxNodes cut the stream short). A client that splits
// the body on '\n' and parses every part must not meet an empty last part.
func (s *Server) postChanges(w http.ResponseWriter, r *http.Request) {
	var in changesBody
	if err := readJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	purged, err := parseBool(in.IncludePurged)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.ChunkSize < 0 || in.MaxNodes < 0 || in.Wait < 0 || in.Wait > changes.MaxWait.Seconds() {
		s.writeError(w, r, &drive.Error{Op: "httpapi.changes", Kind: drive.Invalid, Param: "chunkSize", Message: "chunkSize and maxNodes must not be negative, wait must be 0 to 60 seconds"})
		return
	}
	p, _ := drive.FromContext(r.Context())
	if s.Metrics != nil {
		s.Metrics.ChangesStreams.Inc()
		defer s.Metrics.ChangesStreams.Dec()
	}
	req := changes.Request{Checkpoint: in.Checkpoint, ChunkSize: in.ChunkSize, MaxNodes: in.MaxNodes, IncludePurged: purged,
		Wait: time.Duration(in.Wait * float64(time.Second))}

	var out io.Writer = w
	var gz *gzip.Writer
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Add("Vary", "Accept-Encoding")
			gz = gzip.NewWriter(w)
			out = gz
		}
		w.WriteHeader(http.StatusOK)
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		if gz != nil {
			if err := gz.Flush(); err != nil {
				return err
			}
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		return nil
	}
	var enc *json.Encoder
	complete, err := s.Feed.Stream(r.Context(), p.UserID, req, func(set changes.Set) error {
		if !started {
			start()
			bw.Reset(out)
			enc = json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
		}
		if set.JSON != nil {
			if err := writeChangeSet(bw, set); err != nil {
				return err
			}
			return flush()
		}
		// Encode writes one line per object, ended by '\n'.
		if err := enc.Encode(acd.ChangeSet{Checkpoint: set.Checkpoint, Nodes: s.nodesJSON(r, set.Nodes, false), Reset: set.Reset, StatusCode: http.StatusOK}); err != nil {
			return err
		}
		return flush()
	})
	if err != nil {
		if !started {
			s.writeError(w, r, err)
			return
		}
		// Mid-stream failure: end without the end marker so the client
		// sees an incomplete stream and retries from its checkpoint. A
		// client that went away (its context ended, which also ends the
		// read transaction under the stream) is not a server failure.
		if r.Context().Err() != nil {
			s.Logger.DebugContext(r.Context(), "changes stream ended by the client", "request_id", requestID(r.Context()), "err", err)
		} else {
			s.Logger.ErrorContext(r.Context(), "changes stream failed", "request_id", requestID(r.Context()), "err", err)
		}
		_ = flush()
		if gz != nil {
			_ = gz.Close()
		}
		return
	}
	if complete {
		_, _ = bw.WriteString(changesEnd)
	}
	_ = flush()
	if gz != nil {
		_ = gz.Close()
	}
}

// writeChangeSet writes a change set whose nodes are already rendered
// (NodeWire bytes, from the store's wire column): the same line, byte for
// byte, as encoding acd.ChangeSet with HTML escaping off, '\n' included.
func writeChangeSet(w *bufio.Writer, set changes.Set) error {
	cp, err := json.Marshal(set.Checkpoint)
	if err != nil {
		return err
	}
	_, _ = w.WriteString(`{"checkpoint":`)
	_, _ = w.Write(cp)
	_, _ = w.WriteString(`,"nodes":[`)
	for i, n := range set.JSON {
		if i > 0 {
			_ = w.WriteByte(',')
		}
		_, _ = w.Write(n)
	}
	if set.Reset {
		_, _ = w.WriteString(`],"reset":true`)
	} else {
		_, _ = w.WriteString(`],"reset":false`)
	}
	_, err = w.WriteString(`,"statusCode":` + strconv.Itoa(http.StatusOK) + "}\n")
	return err
}
