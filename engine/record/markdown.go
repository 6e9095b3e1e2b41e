package record

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Markdown writes a session as a report: the prompt, the outcome, each
// attempt's answer in a section with its status, latency and cost, and
// the votes, stages and rankings where the strategy had them. A session
// whose log ends before its summary is reported from its events, marked
// incomplete. A report is read in a terminal as often as in an editor, so
// every escape sequence a model (or a server's error) wrote is removed, as
// [providers.SafeText] removes them everywhere else.
func Markdown(w io.Writer, s Session) error {
	var b strings.Builder
	h := s.Header
	fmt.Fprintf(&b, "# council session: %s\n\n", oneLine(h.Prompt, 80))
	sum := s.Summary()
	if sum == nil {
		fmt.Fprintf(&b, "> This log ends before the session did: %d events, no summary.\n\n", len(s.Events))
		sum = summaryFromEvents(s)
	}
	fmt.Fprintf(&b, "- **Strategy** %s · **tier** %s · recorded %s by council %s\n", sum.Strategy, sum.Tier,
		h.Recorded.Format("2006-01-02 15:04:05 MST"), h.Council)
	fmt.Fprintf(&b, "- **Status** %s", sum.Status)
	if len(sum.Degraded) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(sum.Degraded, ", "))
	}
	fmt.Fprintf(&b, " in %s · **cost** $%.6f\n", ms(sum.ElapsedMS), sum.CostUSD)
	switch {
	case sum.Winner != "":
		fmt.Fprintf(&b, "- **Winner** %s\n", sum.Winner)
	case sum.Chairman != "":
		fmt.Fprintf(&b, "- **Chairman** %s\n", sum.Chairman)
	}
	if r := sum.Route; r != nil {
		fmt.Fprintf(&b, "- **Route** %s → %s (%.2f): %s\n", r.Name, r.Strategy, r.Confidence, r.Why)
	}
	if sum.Error != "" {
		fmt.Fprintf(&b, "- **Why no answer** %s\n", sum.Error)
	}
	fmt.Fprintf(&b, "\n## Prompt\n\n%s\n\n", quote(h.Prompt))
	if sum.Answer != "" {
		fmt.Fprintf(&b, "## Answer\n\n%s\n\n", quote(sum.Answer))
	}
	if len(sum.Votes) > 0 || sum.Invalid > 0 {
		b.WriteString("## Votes\n\n| answer | votes |\n|---|---|\n")
		for _, k := range sortedByCount(sum.Votes) {
			fmt.Fprintf(&b, "| %s | %d |\n", k, sum.Votes[k])
		}
		if sum.Invalid > 0 {
			fmt.Fprintf(&b, "| (invalid) | %d |\n", sum.Invalid)
		}
		fmt.Fprintf(&b, "\nAgreement %.0f%%.\n\n", sum.Agreement*100)
	}
	if len(sum.Stages) > 0 {
		b.WriteString("## Stages\n\n| stage | status | started | took |\n|---|---|---|---|\n")
		for _, st := range sum.Stages {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", st.Name, st.Status, ms(st.StartedMS), ms(st.ElapsedMS))
		}
		b.WriteString("\n")
	}
	if len(sum.Borda) > 0 {
		b.WriteString("## Rankings\n\n")
		for _, rv := range slices.Sorted(maps.Keys(sum.Rankings)) {
			fmt.Fprintf(&b, "- %s: %s\n", rv, strings.Join(sum.Rankings[rv], " > "))
		}
		b.WriteString("\n| model | Borda |\n|---|---|\n")
		for _, m := range sortedByCount(sum.Borda) {
			fmt.Fprintf(&b, "| %s | %s |\n", m, strconv.FormatFloat(sum.Borda[m], 'f', -1, 64))
		}
		for _, r := range sum.Reviews {
			if r.Invalid != "" {
				fmt.Fprintf(&b, "\n%s's ranking is invalid: %s.\n", r.Reviewer, r.Invalid)
			}
		}
		b.WriteString("\n")
	}
	if len(sum.Sections) > 0 {
		sectionsReport(&b, sum)
	}
	b.WriteString("## Models\n\n| attempt | model | stage | role | status | started | first token | took | tokens in/out | cost |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, m := range sum.Models {
		status := string(m.Status)
		if m.Reason != "" {
			status += " (" + m.Reason + ")"
		}
		started, first := "—", "—"
		if m.StartedMS > 0 || m.ElapsedMS > 0 || m.FirstTokenMS > 0 {
			started = fmt.Sprintf("%.0f ms", m.StartedMS)
			if m.StartedMS >= 1000 {
				started = ms(m.StartedMS)
			}
		}
		if m.FirstTokenMS > 0 {
			first = ms(max(m.FirstTokenMS-m.StartedMS, 0))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d / %d | $%.6f |\n", m.Attempt, m.ID, m.Stage, m.Role,
			status, started, first, ms(m.ElapsedMS), m.InputTokens, m.OutputTokens, m.CostUSD)
	}
	b.WriteString("\nstarted: since the session began; first token: after the attempt started; took: the attempt's duration.\n")
	for _, m := range sum.Models {
		if m.Text == "" && m.Error == "" {
			continue
		}
		title := m.ID
		if m.Stage != engine.StageNone {
			title += " · " + m.Stage.String()
		}
		fmt.Fprintf(&b, "\n### %s (%s, %s)\n\n", title, m.Attempt, m.Status)
		if m.Error != "" {
			fmt.Fprintf(&b, "Error: %s\n\n", m.Error)
		}
		if m.Text != "" {
			fmt.Fprintf(&b, "%s\n", quote(m.Text))
		}
	}
	_, err := io.WriteString(w, providers.SafeText(b.String()))
	return err
}

// sectionsReport is a section session's sections: title, model, status,
// time and verdict each, what the result lacks, and the time running them
// at once saved.
func sectionsReport(b *strings.Builder, sum *engine.Summary) {
	b.WriteString("## Sections\n\n| # | section | model | status | took | verdict |\n|---|---|---|---|---|---|\n")
	for _, r := range sum.Sections {
		status := r.Status
		if r.Error != "" {
			status += ": " + oneLine(r.Error, 60)
		}
		if r.Retried {
			status += " ↻ retried"
		}
		verdict := r.Verdict
		if len(r.Votes) > 0 {
			votes := make([]string, len(r.Votes))
			for i, v := range r.Votes {
				votes[i] = cmp.Or(v, "invalid")
			}
			verdict = strings.TrimSpace(verdict + " (" + strings.Join(votes, ", ") + ")")
		}
		if r.Disagree {
			verdict += " ⚑ disagreement"
		}
		fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s |\n", r.Index, cell(r.Title), cmp.Or(r.Model, "—"), cell(status), ms(r.ElapsedMS), cell(verdict))
	}
	b.WriteString("\n")
	if m := sum.Merge; m != nil {
		fmt.Fprintf(b, "Merged by %s", m.Mode)
		if m.Model != "" {
			fmt.Fprintf(b, " (%s)", m.Model)
		}
		fmt.Fprintf(b, ": %s.", m.Status)
		if len(m.Missing) > 0 {
			fmt.Fprintf(b, " Missing from the result: %s.", strings.Join(m.Missing, ", "))
		}
		b.WriteString("\n")
	}
	if sum.SerialMS > 0 {
		fmt.Fprintf(b, "Sections run at once: %s instead of %s one at a time.\n", ms(sum.ElapsedMS), ms(sum.SerialMS))
	}
	b.WriteString("\n")
}

// cell is text safe in a Markdown table cell: one line, pipes escaped.
func cell(s string) string { return strings.ReplaceAll(oneLine(s, 200), "|", "\\|") }

// summaryFromEvents is what can be said of a session whose log has no
// summary: the attempts it saw start, with their text so far.
func summaryFromEvents(s Session) *engine.Summary {
	sum := &engine.Summary{Strategy: "", Tier: s.Header.Tier, Status: "incomplete"}
	rows := map[string]*engine.ModelResult{}
	var order []string
	for _, ev := range s.Events {
		if ev.Attempt == "" {
			continue
		}
		r := rows[ev.Attempt]
		if r == nil {
			r = &engine.ModelResult{Attempt: ev.Attempt, ID: ev.Model, Stage: ev.Stage, Role: ev.Role, Status: engine.AttemptRunning}
			rows[ev.Attempt] = r
			order = append(order, ev.Attempt)
		}
		switch ev.Type {
		case engine.Delta:
			r.Text += ev.Text
		case engine.AttemptDone:
			r.Status, r.Text = engine.AttemptDoneStatus, ev.Text
		case engine.AttemptFailed:
			r.Status, r.Error = engine.AttemptFailedStatus, ev.Err
		case engine.AttemptCancelled:
			r.Status, r.Reason = engine.AttemptCancelledStatus, string(ev.Reason)
		}
		sum.ElapsedMS = engine.Millis(ev.T)
	}
	sum.Strategy = config.Strategy(s.Header.Strategy)
	for _, id := range order {
		sum.Models = append(sum.Models, *rows[id])
	}
	return sum
}

func ms(x float64) string {
	if x == 0 {
		return "—"
	}
	if x >= 1000 {
		return fmt.Sprintf("%.2f s", x/1000)
	}
	return fmt.Sprintf("%.0f ms", x)
}

func quote(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// sortedByCount lists m's keys by value, highest first, then by name.
func sortedByCount[N int | float64](m map[string]N) []string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	return keys
}
