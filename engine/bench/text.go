package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for a person: the table of strategies and
// their models, the latency chart, and for a sweep its table and chart.
// width is the terminal's (80 when unknown).
func (r *Report) WriteText(out io.Writer, width int) error {
	ew := &errWriter{w: out}
	head := fmt.Sprintf("%d sessions each, seed %d, %s clock", r.Sessions, r.Seed, r.Clock)
	if r.Partial {
		head += " — PARTIAL: stopped before the end; the numbers are of the sessions that ended"
	}
	fmt.Fprintln(ew, head)
	if r.Sweep != nil {
		r.writeSweep(ew, width)
		return ew.err
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nstrategy\tsessions\tok\tdegraded\tfailed\tp50\tp95\tp99\tttft p50\textra\tcost\twasted\ttrips\taccuracy\tvotes")
	for _, s := range r.Strategies {
		acc, votes := "-", "-"
		if s.Accuracy != nil {
			acc = fmt.Sprintf("%.1f%%", 100**s.Accuracy)
		}
		if s.MeanVotes != nil {
			votes = fmt.Sprintf("%.2f", *s.MeanVotes)
		}
		p50, p95, p99, ttft := ms(s.P50MS), ms(s.P95MS), ms(s.P99MS), ms(s.TTFTP50MS)
		if s.Successes == 0 { // no answer: no time to first token
			ttft = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.1f%%\t$%.6f\t$%.6f\t%d\t%s\t%s\n",
			s.Strategy, s.Sessions, s.Successes, s.Degraded, s.Failed, p50, p95, p99,
			ttft, 100*s.ExtraRequests, s.CostUSD, s.WastedCostUSD, s.BreakerTrips, acc, votes)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nstrategy\tmodel\tcalls\twon\tdone\tfailed\tcancelled\tskipped\tp50\tp95\tp99\tttft p50\tcost\twasted")
	for _, s := range r.Strategies {
		for _, m := range s.Models {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t$%.6f\t$%.6f\n", s.Strategy, m.ID, m.Calls,
				m.Won, m.Done, m.Failed, m.Cancelled, m.Skipped, msOr(m.P50MS), msOr(m.P95MS), msOr(m.P99MS), msOr(m.TTFTP50MS),
				m.CostUSD, m.WastedCostUSD)
		}
	}
	tw.Flush()
	fmt.Fprintln(ew)
	fmt.Fprint(ew, LatencyChart(r.Strategies, width))
	return ew.err
}

// LatencyChart draws each strategy's latency distribution as a histogram
// on one log-scaled axis shared by all, with p50, p95 and p99 marked
// under it, so that tails can be compared at a glance.
func LatencyChart(ss []Strategy, width int) string {
	label := 0
	lo, hi := math.Inf(1), 0.0
	for _, s := range ss {
		label = max(label, len(s.Strategy))
		if n := len(s.latencies); n > 0 {
			lo = min(lo, s.latencies[0])
			hi = max(hi, s.latencies[n-1])
		}
	}
	if hi == 0 {
		return ""
	}
	lo = max(lo, 1)
	hi = max(hi, lo*1.01)
	cols := max(min(width, 120)-label-2, 20)
	col := func(x float64) int {
		c := int(float64(cols) * math.Log(max(x, lo)/lo) / math.Log(hi/lo))
		return min(max(c, 0), cols-1)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "latency of every session, a failed one at its end (log scale, %s to %s); ^ p50, p95, p99\n", ms(lo), ms(hi))
	bars := []rune(" ▁▂▃▄▅▆▇█")
	for _, s := range ss {
		counts := make([]int, cols)
		for _, x := range s.latencies {
			counts[col(x)]++
		}
		top := 0
		for _, c := range counts {
			top = max(top, c)
		}
		line := make([]rune, cols)
		for i, c := range counts {
			switch {
			case c == 0:
				line[i] = ' '
			default:
				// Square root: one slow session in a thousand still shows.
				k := 1 + int(math.Sqrt(float64(c)/float64(top))*float64(len(bars)-2))
				line[i] = bars[min(k, len(bars)-1)]
			}
		}
		fmt.Fprintf(&b, "%-*s  %s\n", label, s.Strategy, strings.TrimRight(string(line), " "))
		marks := []rune(strings.Repeat(" ", cols))
		text := []rune(strings.Repeat(" ", cols+24))
		for _, q := range []struct {
			name string
			v    float64
		}{{"p50", s.P50MS}, {"p95", s.P95MS}, {"p99", s.P99MS}} {
			if len(s.latencies) == 0 {
				break
			}
			c := col(q.v)
			marks[c] = '^'
			t := []rune(q.name + " " + ms(q.v))
			at := c
			for at < len(text) && text[at] != ' ' || at > 0 && text[at-1] != ' ' {
				at++ // after the previous label
			}
			if at+len(t) <= len(text) {
				copy(text[at:], t)
			}
		}
		fmt.Fprintf(&b, "%-*s  %s\n", label, "", strings.TrimRight(string(marks), " "))
		fmt.Fprintf(&b, "%-*s  %s\n", label, "", strings.TrimRight(string(text), " "))
	}
	return b.String()
}

// writeSweep writes the sweep's table and chart: throughput and p99 per
// concurrency limit, the ceiling marked.
func (r *Report) writeSweep(out io.Writer, width int) {
	sw := r.Sweep
	fmt.Fprintf(out, "\nconcurrency sweep of %s: throughput (successful sessions per second) and p99 latency\n", sw.Strategy)
	best, worst := 0.0, 0.0
	for _, p := range sw.Points {
		best = max(best, p.Throughput)
		worst = max(worst, p.P99MS)
	}
	barW := max(min(width, 120)-44, 10)
	for _, p := range sw.Points {
		n := 0
		if best > 0 {
			n = int(math.Round(float64(barW) * p.Throughput / best))
		}
		bar := strings.Repeat("█", n) + strings.Repeat("·", barW-n)
		mark := ""
		if p.Concurrency == sw.Ceiling {
			mark = "  ◀ ceiling"
		}
		line := fmt.Sprintf("%4d  %s %8s/s  p99 %-7s%s", p.Concurrency, bar, strconv.FormatFloat(p.Throughput, 'f', 2, 64), ms(p.P99MS), mark)
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	if sw.Ceiling == 0 && len(sw.Points) > 1 && best > 0 {
		last := sw.Points[len(sw.Points)-1]
		fmt.Fprintf(out, "no ceiling up to %d: throughput still rose at the highest limit tried (%.2f/s); sweep higher\n",
			last.Concurrency, last.Throughput)
	}
	if sw.Ceiling > 0 {
		var at, last Point
		for _, p := range sw.Points {
			if p.Concurrency == sw.Ceiling {
				at = p
			}
			last = p
		}
		fmt.Fprintf(out, "ceiling: %d, the lowest limit within %.0f%% of the best throughput (%.2f/s); p99 %s there, %s at %d\n",
			sw.Ceiling, 100*CeilingShare, best, ms(at.P99MS), ms(last.P99MS), last.Concurrency)
	}
}

// errWriter remembers the first error of w; later writes fail with it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
