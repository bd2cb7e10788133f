package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/clouddrive/clouddrive/internal/bytesize"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// meter shows the progress of a batch of transfers. Its methods are safe
// for concurrent use.
type meter interface {
	// start begins showing one transfer of size bytes.
	start(name string, size int64) tracker
	// close stops rendering; every tracker must be finished first.
	close()
}

// tracker is one transfer's progress. Exactly one of finish and skip
// ends it.
type tracker interface {
	// set reports the bytes done so far (it may go back on a retry).
	set(done int64)
	// finish ends the transfer.
	finish(err error)
	// skip ends a transfer that turned out unnecessary (the file was
	// there already): it is not shown or counted as transferred.
	skip()
}

// newMeter picks the progress display: bars (mpb) when asked with -P and
// stderr is a terminal; one line per finished file when asked but stderr
// is not a terminal (logs, CI); nothing otherwise or with -q.
func newMeter(env *Env, show, quiet bool, total int64) meter {
	switch {
	case !show || quiet:
		return nopMeter{}
	case env.isTerminal(env.Stderr):
		return newBarMeter(env.Stderr, total)
	}
	return &lineMeter{w: env.Stderr, now: env.now, begin: env.now()}
}

type nopMeter struct{}

func (nopMeter) start(string, int64) tracker { return nopTracker{} }
func (nopMeter) close()                      {}

type nopTracker struct{}

func (nopTracker) set(int64)    {}
func (nopTracker) finish(error) {}
func (nopTracker) skip()        {}

// fallbackColumns is the width bars are drawn for when the terminal
// reports none: a pty whose size was never set (some CI runners, script,
// docker exec without a size) says 0 columns, and mpb would draw nothing.
const fallbackColumns = 100

// ttyWriter is mpb's console writer for a terminal: frames are buffered,
// written at each flush, and the next frame first moves the cursor back
// up over the last one (ANSI CUU and ED), as mpb's own writer does. It
// asks the terminal for its size, and falls back to fallbackColumns when
// the terminal reports 0 columns (or stderr is not a file, in tests).
type ttyWriter struct {
	bytes.Buffer
	out io.Writer
}

func (w *ttyWriter) IsTerminal() bool { return true }

func (w *ttyWriter) GetTermSize() (width, height int, err error) {
	if f, ok := w.out.(*os.File); ok {
		width, height, _ = term.GetSize(int(f.Fd()))
	}
	if width <= 0 {
		width = fallbackColumns
	}
	if height <= 0 {
		height = 64 // enough for every bar -j allows on screen at once
	}
	return width, height, nil
}

func (w *ttyWriter) Flush(lines int) error {
	if _, err := w.WriteTo(w.out); err != nil {
		return err
	}
	if lines > 0 {
		fmt.Fprintf(&w.Buffer, "\x1b[%dA\x1b[J", lines)
	}
	return nil
}

// barMeter draws one bar per running transfer, each with bytes, rate and
// ETA, under a total bar for the whole batch.
type barMeter struct {
	p     *mpb.Progress
	total *mpb.Bar
	mu    sync.Mutex
	sum   int64 // bytes done over all transfers
	size  int64 // bytes planned
	fail  bool  // a transfer failed: the total will not complete
}

func newBarMeter(w io.Writer, total int64) *barMeter {
	p := mpb.New(mpb.WithConsoleWriter(&ttyWriter{out: w}), mpb.WithAutoRefresh(), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithWidth(32))
	m := &barMeter{p: p, size: total}
	m.total = p.AddBar(max(total, 1),
		mpb.BarPriority(1<<30), // last line
		mpb.PrependDecorators(decor.Name("total", decor.WC{W: 32, C: decor.DindentRight}),
			decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WC{W: 22})),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f", decor.WC{W: 13}),
			decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_MMSS)))
	return m
}

func shorten(name string, n int) string {
	r := []rune(name)
	if len(r) <= n {
		return name
	}
	return "…" + string(r[len(r)-n+1:])
}

func (m *barMeter) start(name string, size int64) tracker {
	b := m.p.AddBar(size,
		mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(shorten(name, 31), decor.WC{W: 32, C: decor.DindentRight}),
			decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WC{W: 22})),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), " % .1f", decor.WC{W: 13}),
			decor.Name("  ETA "), decor.AverageETA(decor.ET_STYLE_MMSS)))
	return &barTracker{m: m, b: b, size: size}
}

func (m *barMeter) add(delta int64) {
	m.mu.Lock()
	m.sum += delta
	m.total.SetCurrent(min(m.sum, max(m.size, 1)))
	m.mu.Unlock()
}

func (m *barMeter) close() {
	m.mu.Lock()
	if m.fail {
		m.total.Abort(false)
	} else {
		m.total.SetTotal(max(m.sum, 1), true)
	}
	m.mu.Unlock()
	m.p.Wait()
}

type barTracker struct {
	m    *barMeter
	b    *mpb.Bar
	size int64
	mu   sync.Mutex
	done int64
}

func (t *barTracker) set(done int64) {
	t.mu.Lock()
	delta := done - t.done
	t.done = done
	t.mu.Unlock()
	t.m.add(delta)
	t.b.SetCurrent(done)
}

// skip drops the bar and takes the file out of the total.
func (t *barTracker) skip() {
	t.mu.Lock()
	done := t.done
	t.done = 0
	t.mu.Unlock()
	t.m.mu.Lock()
	t.m.sum -= done
	t.m.size -= t.size
	t.m.total.SetTotal(max(t.m.size, 1), false)
	t.m.total.SetCurrent(min(t.m.sum, max(t.m.size, 1)))
	t.m.mu.Unlock()
	t.b.Abort(true)
}

func (t *barTracker) finish(err error) {
	if err != nil {
		t.m.mu.Lock()
		t.m.fail = true
		t.m.mu.Unlock()
		t.b.Abort(true)
		return
	}
	t.mu.Lock()
	rest := t.size - t.done
	t.done = t.size
	t.mu.Unlock()
	t.m.add(rest)
	t.b.SetTotal(-1, true)
}

// lineMeter prints one line per finished transfer, and a total.
type lineMeter struct {
	w       io.Writer
	now     func() time.Time
	begin   time.Time
	mu      sync.Mutex
	bytes   int64
	files   int
	skipped int
}

type lineTracker struct {
	m     *lineMeter
	name  string
	size  int64
	start time.Time
}

func (m *lineMeter) start(name string, size int64) tracker {
	return &lineTracker{m: m, name: name, size: size, start: m.now()}
}

func (m *lineMeter) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	skipped := ""
	if m.skipped > 0 {
		skipped = fmt.Sprintf("; %d unchanged, skipped", m.skipped)
	}
	fmt.Fprintf(m.w, "total: %s, %s in %s (%s)%s\n", plural(m.files, "file"), bytesize.Format(m.bytes),
		m.now().Sub(m.begin).Round(time.Millisecond), rate(m.bytes, m.now().Sub(m.begin)), skipped)
}

func (t *lineTracker) set(int64) {}

// skip prints nothing: the file was not transferred (-v logs it).
func (t *lineTracker) skip() {
	t.m.mu.Lock()
	t.m.skipped++
	t.m.mu.Unlock()
}

func (t *lineTracker) finish(err error) {
	if err != nil {
		return
	}
	d := t.m.now().Sub(t.start)
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	t.m.bytes += t.size
	t.m.files++
	fmt.Fprintf(t.m.w, "%s: %s in %s (%s)\n", t.name, bytesize.Format(t.size), d.Round(time.Millisecond), rate(t.size, d))
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return bytesize.Format(int64(float64(n)/d.Seconds())) + "/s"
}
