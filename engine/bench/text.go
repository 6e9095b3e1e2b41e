package bench

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// minWidth is the narrowest report drawn: below it lines may exceed the
// width given.
const minWidth = 40

// WriteText writes the report for a person: the table of strategies and
// their models, the latency chart, and for a sweep its table and chart,
// every line at most width cells (80 when unknown). A table wider than
// that continues in a block below, led by the same key columns; a cell is
// never cut without "…".
func (r *Report) WriteText(out io.Writer, width int) error {
	width = max(width, minWidth)
	ew := bufio.NewWriter(out) // keeps the first error; later writes fail with it
	head := fmt.Sprintf("%d sessions each, seed %d, %s clock", r.Sessions, r.Seed, r.Clock)
	if r.Partial {
		head += " — PARTIAL: stopped before the end; the numbers are of the sessions that ended"
	}
	wrap(ew, head, width)
	if r.Sweep != nil {
		r.writeSweep(ew, width)
		return ew.Flush()
	}
	fmt.Fprintln(ew)
	r.strategyTable().write(ew, width)
	wrap(ew, "fail: sessions without an answer; p50..p99 count every session, a failed one at its end. "+
		"extra: sessions that called more than the model that answered.", width)
	for _, s := range r.Strategies {
		if s.Hedge != nil {
			wrap(ew, hedgeNote(s.Hedge), width)
		}
	}
	fmt.Fprintln(ew)
	r.modelTable().write(ew, width)
	fmt.Fprintln(ew)
	fmt.Fprint(ew, LatencyChart(r.Strategies, width))
	return ew.Flush()
}

// strategyTable is one row per strategy; accuracy and votes only when a
// strategy has them.
func (r *Report) strategyTable() *table {
	votes := false
	for _, s := range r.Strategies {
		votes = votes || s.Accuracy != nil || s.MeanVotes != nil
	}
	t := &table{keys: 1, head: []string{"strategy", "fail", "deg", "p50", "p95", "p99", "ttft", "extra", "cost", "wasted", "trips"}}
	if votes {
		t.head = append(t.head, "accuracy", "votes")
	}
	for _, s := range r.Strategies {
		ttft := ms(s.TTFTP50MS)
		if s.Successes == 0 { // no answer: no first token
			ttft = "-"
		}
		row := []string{s.Strategy, pct(s.FailureRate), strconv.Itoa(s.Degraded), ms(s.P50MS), ms(s.P95MS), ms(s.P99MS),
			ttft, pct(s.ExtraRequests), usd(s.CostUSD), usd(s.WastedCostUSD), strconv.Itoa(s.BreakerTrips)}
		if votes {
			acc, v := "-", "-"
			if s.Accuracy != nil {
				acc = pct(*s.Accuracy)
			}
			if s.MeanVotes != nil {
				v = fmt.Sprintf("%.2f", *s.MeanVotes)
			}
			row = append(row, acc, v)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// modelTable is one row per strategy and model.
func (r *Report) modelTable() *table {
	t := &table{keys: 2, head: []string{"strategy", "model", "calls", "won", "done", "fail", "cancel", "skip",
		"p50", "p95", "p99", "ttft", "cost", "wasted"}}
	for _, s := range r.Strategies {
		for _, m := range s.Models {
			t.rows = append(t.rows, []string{s.Strategy, m.ID, strconv.Itoa(m.Calls), strconv.Itoa(m.Won), strconv.Itoa(m.Done),
				strconv.Itoa(m.Failed), strconv.Itoa(m.Cancelled), strconv.Itoa(m.Skipped), msOr(m.P50MS), msOr(m.P95MS),
				msOr(m.P99MS), msOr(m.TTFTP50MS), usd(m.CostUSD), usd(m.WastedCostUSD)})
		}
	}
	return t
}

// hedgeNote says where the hedge fired and whether max_extra covers the
// primary's slow mode.
func hedgeNote(h *Hedge) string {
	if h.KneeMS == nil {
		return fmt.Sprintf("hedge: %s shows no slow mode; the hedge delay came to %s.", h.Primary, ms(h.DelayMS)) + replacedNote(h)
	}
	s := fmt.Sprintf("hedge: %s's slow mode (past %s) holds %s of its calls; the hedge delay came to %s. ",
		h.Primary, ms(*h.KneeMS), pct(h.SlowShare), ms(h.DelayMS))
	if h.MaxExtra >= h.NeedsMaxExtra {
		s += fmt.Sprintf("max_extra %.2f covers it (%.2f needed).", h.MaxExtra, h.NeedsMaxExtra)
	} else {
		s += fmt.Sprintf("max_extra %.2f is short: %.2f lets every slow call hedge.", h.MaxExtra, h.NeedsMaxExtra)
	}
	return s + replacedNote(h)
}

// replacedNote says how many sessions the hedge moved from the primary to
// the backup, and what hedge.replace was.
func replacedNote(h *Hedge) string {
	switch {
	case h.Replaced > 0:
		return fmt.Sprintf(" %d sessions replaced a primary past the knee with the backup, max_extra being spent (hedge.replace).", h.Replaced)
	case !h.Replace && h.KneeMS != nil && h.MaxExtra < h.NeedsMaxExtra:
		return " hedge.replace is off: a primary past the knee without a backup runs on."
	}
	return ""
}

// pct formats a share: "14%", "0.4%", "100%".
func pct(x float64) string {
	p := 100 * x
	if p != 0 && p < 9.95 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// usd formats dollars to three significant digits, at most six decimals:
// "$0.0374", "$12.4", "$0.000055".
func usd(x float64) string {
	if x == 0 {
		return "$0"
	}
	digits := min(max(2-int(math.Floor(math.Log10(math.Abs(x)))), 0), 6)
	return "$" + strconv.FormatFloat(x, 'f', digits, 64)
}

// table is a text table that fits a width: the columns that do not fit
// beside the key columns continue in a block below, led by the key
// columns again; a key cell too wide for the width is cut with "…".
type table struct {
	head []string
	rows [][]string
	keys int // leading columns that name a row
}

// write draws the table with two spaces between columns, or one when
// that keeps it in one block.
func (t *table) write(w io.Writer, width int) {
	cw, blocks := t.layout(width, 2)
	gap := 2
	if len(blocks) > 1 {
		if cw1, b1 := t.layout(width, 1); len(b1) == 1 {
			cw, blocks, gap = cw1, b1, 1
		}
	}
	sp := strings.Repeat(" ", gap)
	for b, cols := range blocks {
		if b > 0 {
			fmt.Fprintln(w)
		}
		for _, row := range append([][]string{t.head}, t.rows...) {
			var line strings.Builder
			for i := range t.keys {
				c := ansi.Truncate(row[i], cw[i], "…")
				line.WriteString(c + strings.Repeat(" ", cw[i]-ansi.StringWidth(c)) + sp)
			}
			for j, i := range cols {
				// Numbers right-aligned, under a right-aligned head.
				line.WriteString(strings.Repeat(" ", cw[i]-ansi.StringWidth(row[i])) + row[i])
				if j < len(cols)-1 {
					line.WriteString(sp)
				}
			}
			fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
		}
	}
}

// layout is the columns' widths (key columns cut to fit) and the blocks
// of the other columns, each fitting width beside the keys.
func (t *table) layout(width, gap int) (cw []int, blocks [][]int) {
	n := len(t.head)
	cw = make([]int, n)
	for _, row := range append([][]string{t.head}, t.rows...) {
		for i, c := range row {
			cw[i] = max(cw[i], ansi.StringWidth(c))
		}
	}
	widest := 0
	for _, x := range cw[t.keys:] {
		widest = max(widest, x)
	}
	// Cut the widest key column until the keys and the widest other
	// column fit.
	for {
		used := widest
		for _, x := range cw[:t.keys] {
			used += x + gap
		}
		k := 0
		for i := range t.keys {
			if cw[i] > cw[k] {
				k = i
			}
		}
		if used <= width || cw[k] <= 4 {
			break
		}
		cw[k] = max(cw[k]-(used-width), 4)
	}
	keysW := 0
	for _, x := range cw[:t.keys] {
		keysW += x + gap
	}
	var cur []int
	used := keysW
	for i := t.keys; i < n; i++ {
		if len(cur) > 0 && used+cw[i] > width {
			blocks = append(blocks, cur)
			cur, used = nil, keysW
		}
		cur = append(cur, i)
		used += cw[i] + gap
	}
	return cw, append(blocks, cur)
}

// wrap writes text in lines of at most width cells, broken between words.
func wrap(w io.Writer, text string, width int) {
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width:
			line += " " + word
		default:
			fmt.Fprintln(w, line)
			line = word
		}
	}
	fmt.Fprintln(w, line)
}

// LatencyChart draws each strategy's latency distribution as a histogram
// on one log-scaled axis shared by all, with p50, p95 and p99 marked
// under it, so that tails can be compared at a glance. Every line is at
// most width cells.
func LatencyChart(ss []Strategy, width int) string {
	width = max(width, minWidth)
	label := 0
	lo, hi := math.Inf(1), 0.0
	for _, s := range ss {
		label = max(label, ansi.StringWidth(s.Strategy))
		if n := len(s.latencies); n > 0 {
			lo = min(lo, s.latencies[0])
			hi = max(hi, s.latencies[n-1])
		}
	}
	if hi == 0 {
		return ""
	}
	label = min(label, width/4)
	lo = max(lo, 1)
	hi = max(hi, lo*1.01)
	cols := max(min(width, 120)-label-2, 20)
	col := func(x float64) int {
		c := int(float64(cols) * math.Log(max(x, lo)/lo) / math.Log(hi/lo))
		return min(max(c, 0), cols-1)
	}
	var b strings.Builder
	wrap(&b, fmt.Sprintf("latency of every session, a failed one at its end: log scale, %s to %s; ^ marks p50, p95, p99",
		ms(lo), ms(hi)), width)
	bars := []rune(" ▁▂▃▄▅▆▇█")
	pad := strings.Repeat(" ", label+2)
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
		name := ansi.Truncate(s.Strategy, label, "…")
		fmt.Fprintf(&b, "%s%s%s\n", name, strings.Repeat(" ", label+2-ansi.StringWidth(name)), strings.TrimRight(string(line), " "))
		if len(s.latencies) == 0 {
			continue
		}
		marks := []rune(strings.Repeat(" ", cols))
		qs := []struct {
			name string
			v    float64
		}{{"p50", s.P50MS}, {"p95", s.P95MS}, {"p99", s.P99MS}}
		labels := make([]string, len(qs))
		at := make([]int, len(qs))
		for i, q := range qs {
			at[i] = col(q.v)
			marks[at[i]] = '^'
			labels[i] = q.name + " " + ms(q.v)
		}
		fmt.Fprintf(&b, "%s%s\n", pad, strings.TrimRight(string(marks), " "))
		fmt.Fprintf(&b, "%s%s\n", pad, markLabels(labels, at, cols))
	}
	return b.String()
}

// markLabels puts each label under its mark, moved right past the label
// before it and left to end within cols; when they cannot all fit so,
// they are written one after another from the start of the line.
func markLabels(labels []string, at []int, cols int) string {
	text := []rune(strings.Repeat(" ", cols))
	end := 0 // where the previous label ended, plus a space
	for i := range labels {
		t := []rune(labels[i])
		// Leave room for the labels after it.
		room := 0
		for _, l := range labels[i+1:] {
			room += len([]rune(l)) + 1
		}
		p := min(max(at[i], end), cols-room-len(t))
		if p < end {
			return strings.Join(labels, "  ")
		}
		copy(text[p:], t)
		end = p + len(t) + 1
	}
	return strings.TrimRight(string(text), " ")
}

// writeSweep writes the sweep's table and chart: throughput and p99 per
// concurrency limit, the ceiling marked.
func (r *Report) writeSweep(out io.Writer, width int) {
	sw := r.Sweep
	fmt.Fprintln(out)
	wrap(out, fmt.Sprintf("concurrency sweep of %s: throughput (successful sessions per second) and p99 latency of every session", sw.Strategy), width)
	best := 0.0
	for _, p := range sw.Points {
		best = max(best, p.Throughput)
	}
	const mark = "  ◀ ceiling"
	// "%4d  " bar " %8s/s  p99 %-7s" mark: 41 cells beside the bar, and
	// room for a p99 of more than 7.
	barW := max(min(width, 120)-44, 10)
	for _, p := range sw.Points {
		n := 0
		if best > 0 {
			n = int(math.Round(float64(barW) * p.Throughput / best))
		}
		bar := strings.Repeat("█", n) + strings.Repeat("·", barW-n)
		m := ""
		if p.Concurrency == sw.Ceiling {
			m = mark
		}
		line := fmt.Sprintf("%4d  %s %8s/s  p99 %-7s%s", p.Concurrency, bar, strconv.FormatFloat(p.Throughput, 'f', 2, 64), ms(p.P99MS), m)
		fmt.Fprintln(out, strings.TrimRight(line, " "))
	}
	if sw.Ceiling == 0 && len(sw.Points) > 1 && best > 0 {
		last := sw.Points[len(sw.Points)-1]
		wrap(out, fmt.Sprintf("no ceiling up to %d: throughput still rose at the highest limit tried (%.2f/s); sweep higher",
			last.Concurrency, last.Throughput), width)
	}
	if sw.Ceiling > 0 {
		var at, last Point
		for _, p := range sw.Points {
			if p.Concurrency == sw.Ceiling {
				at = p
			}
			last = p
		}
		wrap(out, fmt.Sprintf("ceiling: %d, the lowest limit within %.0f%% of the best throughput (%.2f/s); p99 %s there, %s at %d",
			sw.Ceiling, 100*CeilingShare, best, ms(at.P99MS), ms(last.P99MS), last.Concurrency), width)
	}
}
