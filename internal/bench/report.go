package bench

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"text/tabwriter"
	"time"
)

func md5Of(i int) string {
	s := md5.Sum([]byte(strconv.Itoa(i)))
	return hex.EncodeToString(s[:])
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// print writes the report table.
func (r *runner) print(total time.Duration) {
	w := r.cfg.Out
	if w == nil {
		return
	}
	fmt.Fprintf(w, "\nclouddrive bench (%s, %s/%s, %d CPUs, GOMAXPROCS %d); took %v\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), total.Round(time.Second))
	if r.cfg.MachineDescription != "" {
		fmt.Fprintln(w, r.cfg.MachineDescription)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tmeasure\tclouddrive\treference\tratio\tp50\tp99\ttarget")
	for _, row := range r.rows {
		ref, ratio := "-", "-"
		if row.Ref != 0 {
			ref = fmt.Sprintf("%s %s", num(row.Ref), row.RefName)
			ratio = fmt.Sprintf("%.2fx", row.Ratio())
		}
		p50, p99 := "-", "-"
		if row.P50 > 0 {
			p50, p99 = fmtDur(row.P50), fmtDur(row.P99)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", row.Section, row.Name, num(row.Value), row.Unit, ref, ratio, p50, p99, row.Target)
	}
	tw.Flush()
	for _, row := range r.rows {
		if row.Note != "" {
			fmt.Fprintf(w, "  %s / %s: %s\n", row.Section, row.Name, row.Note)
		}
	}
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%dµs", d.Microseconds())
}
