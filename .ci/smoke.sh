#!/usr/bin/env bash
# Drives the dashboard in tmux as a person would. At 80x24, 120x40 and
# 160x48: a race's y copies the winner's answer, an auto session keeps its
# route and why on screen, a section run's merge is read to its end and
# copied, a recorded council replays marked as one. Then: type a prompt, watch a race,
# a hedge and a consensus session to the end, trip the flaky model's breaker
# with auto-fire, quit, and check the terminal is restored. Then the same at
# 80x24; then the too-small screen's q, esc on a consensus (cancelled, never
# a missed quorum) and y (the answer reaches tmux's buffer through OSC 52).
# Beside it all: the council watch lines docs/serve-and-watch.md shows
# (read from the page), among them its recipe on traffic.
# Usage: .ci/smoke.sh [path/to/council]
set -euo pipefail
BIN=$(realpath "${1:-./council}")
SOCK="council-smoke-$$"
T="tmux -L $SOCK"
WATCHDIR=$(mktemp -d)
SERVER=""
SIZE_PIDS=()
trap 'tmux -L "$SOCK" kill-server >/dev/null 2>&1 || true; [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; for p in "${SIZE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait; rm -rf "$WATCHDIR"' EXIT

screen() { $T capture-pane -p -t smoke; }
fail() {
	echo "smoke: FAIL: $*" >&2
	echo "---- screen ----" >&2
	screen >&2 || true
	exit 1
}
# wait_for PATTERN SECONDS: until the screen matches (grep -E).
wait_for() {
	local pat=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		if screen | grep -Eq -- "$pat"; then return 0; fi
		sleep 0.1
	done
	fail "waited ${secs}s for /$pat/"
}
keys() { $T send-keys -t smoke "$@"; sleep 0.3; }

start() { # WIDTH HEIGHT [FLAGS [PATTERN]]; each run gets a tmux server of its own
	start_cmd "$1" "$2" "'$BIN' --seed 42 ${3:-}" "${4:-type a prompt}"
}

start_cmd() { # WIDTH HEIGHT COMMAND PATTERN
	$T kill-server >/dev/null 2>&1 || true
	RUNS=$((${RUNS:-0} + 1)) # a socket per run: a server just killed may linger on its own
	SOCK="council-smoke-$BASHPID-$RUNS-$1x$2" # BASHPID: the sizes run in subshells of their own
	T="tmux -L $SOCK"
	$T new-session -d -s smoke -x "$1" -y "$2" "env -u COUNCIL_CONFIG XDG_CONFIG_HOME=/nonexistent HOME=/nonexistent TERM=xterm-256color bash --norc --noprofile"
	$T set-option -t smoke status off >/dev/null
	keys 'PS1="smoke$ "; clear; echo BEFORE-COUNCIL' Enter
	keys "$3" Enter
	wait_for "$4" 10
}

quit_and_check_restored() {
	keys Escape
	keys q
	wait_for '^smoke\$ ?$' 10
	screen | grep -q 'BEFORE-COUNCIL' || fail "the shell's screen was not restored after quitting"
	screen | grep -q 'Breakers' && fail "dashboard remnants left on the terminal"
	return 0
}

# at_every_size W H: in one dashboard, a race's y copies the winner's answer
# (the recorded session's, not a cancelled loser's); an auto session's route
# and why stay on screen to its end; a section run's merge is read to its end
# (G, then zoomed) and y copies all of it. Then a recorded council replays
# with replay, the strategy, its tier and its position in the header.
at_every_size() {
	local w=$1 h=$2 rec winner
	echo "smoke: ${w}x$h: race y, auto's route, section merge, replay"
	rec="$WATCHDIR/rec-${w}x$h"
	mkdir -p "$rec"
	start "$w" "$h" "--input '$ROOT/testdata/contract.md' --record '$rec'" 'sections from contract.md'
	$T set-option -s set-clipboard on
	keys Escape # alone: escape then m at once reads as alt+m
	keys m # race
	keys / C-u 'How do database indexes work?' Enter
	wait_for '#1 .*(decided|degraded)' 20
	winner=$(screen | grep -Eo '(decided|degraded): sim/[a-z]+ won' | grep -Eo 'sim/[a-z]+' | head -1 || true)
	[ -n "$winner" ] || fail "${w}x$h race: no winner named"
	keys y
	wait_for "copied $winner's answer" 5
	$BIN replay --json "$rec"/*.jsonl | grep -qF -- "\"answer\":\"$($T show-buffer | head -c 60)" ||
		fail "${w}x$h race: y copied something else than $winner's recorded answer: $($T show-buffer | head -c 200)"

	keys Escape
	keys m m m m # hedge, consensus, council, auto
	wait_for 'next: auto' 5
	keys / C-u 'Is my invoice overdue?' Enter
	wait_for 'route [a-z-]+ → [a-z]+ on [a-z]+ \([0-9.]+\) · why: ' 10
	wait_for '#2 .*(decided|degraded|failed)' 30
	sleep 2 # past a transient status's life: the route is the session's, it stays
	screen | grep -Eq 'route [a-z-]+ → [a-z]+ on [a-z]+ \([0-9.]+\) · why: [a-z]' || fail "${w}x$h auto: the route and why left the screen"

	keys Escape
	keys m # section
	wait_for 'next: section' 5
	keys / C-u 'Summarise each clause and flag anything one-sided' Enter
	wait_for '#3 .*decided' 30
	wait_for '9/9 sections' 5
	keys G
	merge_at_end "${w}x$h merge"
	keys Enter G # zoomed
	merge_at_end "${w}x$h zoomed merge"
	keys y
	wait_for 'copied the merged result' 5
	$T show-buffer | grep -q '^## Services Agreement' || fail "${w}x$h section: y did not copy the merge from its start"
	$T show-buffer | grep -q 'courts of England' || fail "${w}x$h section: y did not copy the merge to its end"
	quit_and_check_restored

	start_cmd "$w" "$h" "'$BIN' replay '$WATCHDIR/council.jsonl'" '(decided|degraded)'
	screen | head -1 | grep -Eq 'replay .*1 of 1' || fail "${w}x$h replay: the header does not mark the replay: $(screen | head -1)"
	screen | head -1 | grep -Eq '(strategy )?council( +│ +tier| ·) quick' || fail "${w}x$h replay: the header lacks the council or its tier: $(screen | head -1)"
	keys q
	wait_for '^smoke\$ ?$' 10
}

# merge_at_end WHAT: the merge's last section is on screen, and when its
# box says which lines it shows, they run to the last.
merge_at_end() {
	screen | grep -q 'courts of England' || fail "$1: the merge's end is not on screen"
	if screen | grep -q 'merge · .* lines '; then
		screen | grep -Eq 'lines [0-9]+-([0-9]+) of \1' || fail "$1: the box does not show the last line"
	fi
	return 0
}

ROOT=$(realpath "$(dirname "$0")/..")
# doc_lines NAME: the commands docs/serve-and-watch.md shows under its
# <!-- smoke: NAME --> marker (the indented block after it, a line ending in
# \ joined to the next), so that what the smoke runs is what the page says.
doc_lines() {
	awk -v name="$1" '
		index($0, "<!-- smoke: " name " ") == 1 { on = 1; next }
		on && /^    / { l = substr($0, 5); if (sub(/\\$/, "", l)) { cont = cont l; next } print cont l; cont = ""; next }
		on { exit }
	' "$ROOT/docs/serve-and-watch.md"
}
# as_run LINE PORT: a doc's line as typed here: council is the binary under
# test, and 8484 a free port (never a server already on 8484).
as_run() {
	local l=$1
	l=$(sed -E "s#^(([A-Z_]+=[^ ]+ )*)council #\1'$BIN' #; s#(127\.0\.0\.1|localhost):8484#\1:$2#g" <<<"$l")
	printf '%s\n' "$l"
}
type_line() { # SESSION LINE: typed as is, then enter
	$T send-keys -t "$1" -l -- "$2"
	$T send-keys -t "$1" Enter
	sleep 0.3
}
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}

# docs_watch: the council watch lines docs/serve-and-watch.md shows without
# a $ (they need a terminal, or run until stopped), typed as the page writes
# them: the test server and a watch on it; the usage lines; then "to see it
# on traffic": council serve with an admin token, the curl loop (stopped
# with ctrl+c once watch has shown its sessions) and a watch on it, where e
# twice on sim/flaky makes its error rate 1.00 on the server.
docs_watch() {
	local srv_lines use_lines traffic_lines p1 p2 i out
	mapfile -t srv_lines < <(doc_lines watch-test-server)
	mapfile -t use_lines < <(doc_lines watch-usage)
	mapfile -t traffic_lines < <(doc_lines watch-traffic)
	[ ${#srv_lines[@]} -eq 2 ] || fail "docs: the watch-test-server block is not its 2 lines: ${srv_lines[*]}"
	[ ${#use_lines[@]} -eq 3 ] || fail "docs: the watch-usage block is not its 3 lines: ${use_lines[*]}"
	[ ${#traffic_lines[@]} -eq 3 ] || fail "docs: the watch-traffic block is not its 3 lines: ${traffic_lines[*]}"
	p1=$(free_port)
	p2=$(free_port)
	[ "$p1" != "$p2" ] || p2=$(free_port)
	echo "smoke: docs: the test server and council watch on it (port $p1)"
	start_cmd 160 48 "cd '$ROOT'" 'smoke\$'
	type_line smoke "$(as_run "${srv_lines[0]}" "$p1")" # go test ... &
	type_line smoke "$(as_run "${srv_lines[1]}" "$p1")" # council watch
	wait_for "● 127.0.0.1:$p1" 90 # go test builds the server first
	wait_for '(decided|degraded): sim/[a-z]+ won' 20
	keys q
	wait_for '^smoke\$ ?$' 10
	echo "smoke: docs: the usage lines"
	type_line smoke "$(as_run "${use_lines[0]}" "$p1")"
	wait_for "● 127.0.0.1:$p1" 10
	wait_for '(decided|degraded): sim/[a-z]+ won' 20
	keys q
	wait_for '^smoke\$ ?$' 10
	type_line smoke "$(as_run "${use_lines[1]}" "$p1")" # two servers that are not there
	wait_for 'a\.example:8484.*b\.example:8484' 10
	keys q
	wait_for '^smoke\$ ?$' 10
	type_line smoke 'kill %1'

	echo "smoke: docs: to see it on traffic (port $p2)"
	mkdir -p "$WATCHDIR/traffic"
	# The demo council's config with its [serve] table's addr and admin
	# token variable on (the page's council.toml).
	sed -E -e 's/^# \[serve\]/[serve]/' -e "s/^# addr = .*/addr = \"127.0.0.1:$p2\"/" \
		-e 's/^# (admin_token_env = .*)/\1/' "$ROOT/engine/config/demo.toml" >"$WATCHDIR/traffic/council.toml"
	$T new-session -d -s srv -x 160 -y 10 -c "$WATCHDIR/traffic" "env -u COUNCIL_CONFIG XDG_CONFIG_HOME=/nonexistent HOME=/nonexistent bash --norc --noprofile"
	$T new-session -d -s load -x 160 -y 10 -c "$WATCHDIR/traffic" "bash --norc --noprofile"
	type_line srv "$(as_run "${traffic_lines[0]}" "$p2")"
	for ((i = 0; i < 100; i++)); do $T capture-pane -p -t srv | grep -q 'serving on' && break; sleep 0.1; done
	$T capture-pane -p -t srv | grep -q "serving on http://127.0.0.1:$p2" || fail "docs: council serve did not start: $($T capture-pane -p -t srv)"
	type_line load "$(as_run "${traffic_lines[1]}" "$p2")" # the curl loop
	type_line smoke "$(as_run "${traffic_lines[2]}" "$p2")"
	wait_for "● 127.0.0.1:$p2" 10
	wait_for '#([3-9]|[1-9][0-9]+) .*(decided|degraded|failed)' 20 # the loop's third request at least (a slow start shows a later one)
	echo "smoke: docs: watch shows the traffic"
	$T send-keys -t load C-c # the loop stops; its last requests finish
	sleep 2
	for ((i = 0; i < 6; i++)); do
		screen | grep -q '┏━ sim/flaky' && break
		keys Tab
	done
	screen | grep -q '┏━ sim/flaky' || fail "docs: tab never focused sim/flaky"
	keys e
	wait_for 'sim/flaky error_rate → 0.75' 5
	keys e
	wait_for 'sim/flaky error_rate → 1.00' 5
	out=$(curl -s -H 'Authorization: Bearer adm' "127.0.0.1:$p2/v1/council/admin/tune" -d '{"model":"sim/flaky","knob":"error_rate","delta":0}')
	grep -q '"error_rate":1[,}]' <<<"$out" || fail "docs: the server's sim/flaky error rate is not 1: $out"
	echo "smoke: docs: e twice on sim/flaky: error rate 1.00 on the server"
	type_line load 'wait' # the loop's last curls
	keys q
	wait_for '^smoke\$ ?$' 10
	$T send-keys -t srv C-c
	for ((i = 0; i < 100; i++)); do $T capture-pane -p -t srv | grep -q 'drained, bye' && break; sleep 0.1; done
}

# A council recorded by council run --record (a fast simulated council: the
# replay is checked, not the models).
(cd "$WATCHDIR" && env -u COUNCIL_CONFIG "$BIN" run --config "$ROOT/testdata/fast.toml" --strategy council --seed 42 \
	--record "$WATCHDIR/council.jsonl" "How do database indexes work?" >/dev/null 2>&1) || fail "cannot record a council"
# The three sizes run beside the rest (each on tmux servers of its own):
# they add little to the smoke's time. Their output is shown at the end.
SIZE_PIDS=()
for size in "80 24" "120 40" "160 48"; do
	(
		trap 'tmux -L "$SOCK" kill-server >/dev/null 2>&1 || true' EXIT
		at_every_size $size
	) >"$WATCHDIR/size-${size/ /x}.log" 2>&1 &
	SIZE_PIDS+=($!)
done
(
	trap 'tmux -L "$SOCK" kill-server >/dev/null 2>&1 || true' EXIT
	docs_watch
) >"$WATCHDIR/size-docs.log" 2>&1 &
SIZE_PIDS+=($!)

echo "smoke: 160x48"
start 160 48
keys 'How do database indexes work?' Enter
wait_for '(decided|degraded): sim/[a-z]+ won' 20
screen | grep -q 'lost race' || fail "race: no straggler cancelled"
echo "smoke: race ok"

keys Escape
keys m # hedge
wait_for 'next: hedge' 5 # the session on screen keeps its header
keys r
wait_for '#2 .*(decided|degraded)' 20
screen | grep -q 'strategy hedge' || fail "hedge: the header does not name the session's strategy"
screen | grep -Eq 'primary|hedge' || fail "hedge: no primary/backup shown"
echo "smoke: hedge ok"

keys m # consensus
wait_for 'next: consensus' 5 # the session on screen keeps its header
keys / C-u
keys 'I was charged twice for my subscription this month' Enter
wait_for '#3 .*(decided|degraded|failed)' 20
wait_for 'Votes' 5
screen | grep -q 'quorum' || fail "consensus: no quorum line"
echo "smoke: consensus ok"

keys m # council
wait_for 'next: council' 5 # the session on screen keeps its header
keys / C-u
keys 'How do database indexes work?' Enter
wait_for '#4 .*(decided|degraded|failed)' 40
wait_for 'Stages .*synthesis' 5
screen | grep -q 'Rankings' || fail "council: no ranking table"
screen | grep -Eq 'synthesis · sim/' || fail "council: no synthesis pane"
echo "smoke: council ok"

keys m # auto
wait_for 'next: auto' 5 # the session on screen keeps its header
keys r
wait_for '#5 .*(decided|degraded|failed)' 40
screen | grep -Eq 'auto ?→' || fail "auto: no route in the header"
echo "smoke: auto ok"

keys m # race again
wait_for 'next: race' 5 # the session on screen keeps its header
# Focus sim/flaky (the fourth pane of the quick tier) and make it worse.
keys Escape
for _ in 1 2 3; do keys Tab; done
keys e
wait_for 'sim/flaky.*error_rate' 5
keys a # auto-fire
wait_for 'auto' 5
wait_for 'breaker open|OPEN' 90
echo "smoke: breaker tripped under auto-fire"
keys a # auto-fire off
quit_and_check_restored
echo "smoke: quit, terminal restored"

echo "smoke: 80x24"
start 80 24
keys 'What is a circuit breaker?' Enter
wait_for '(decided|degraded|failed)' 20
keys Escape
keys m m m # council
keys r
wait_for '#2.*(decided|degraded|failed)' 40
wait_for 'Stages .*synthesis' 5
screen | grep -q 'Borda' || fail "council 80x24: no Borda line"
echo "smoke: council 80x24 ok"
quit_and_check_restored

echo "smoke: 40x10"
start 40 10 "" 'terminal too small'
screen | grep -q 'q quits' || fail "too small: the screen does not say q quits"
keys q # the dashboard starts in the prompt: q must quit all the same
wait_for '^smoke\$ ?$' 10
echo "smoke: too small, q quits"

echo "smoke: esc on a consensus, y copies"
start 160 48 "--config '$(realpath "$(dirname "$0")/../testdata/slowvote.toml")'"
$T set-option -s set-clipboard on
keys 'I was charged twice' Enter
wait_for 'vote billing' 10
keys Escape
wait_for '#1 .*cancelled' 10
screen | grep -q 'cancelled before a decision' || fail "consensus esc: the tally does not say cancelled"
screen | grep -Eq 'quorum not reached|agreement 0%|✗ failed|no decision' && fail "consensus esc: reported as a failure"
keys y
wait_for 'copied sim/v1' 5
$T show-buffer | grep -q 'billing' || fail "y: the answer did not reach the clipboard (tmux buffer)"
echo "smoke: esc cancelled, y copied"
quit_and_check_restored

echo "smoke: council serve"
if command -v curl >/dev/null 2>&1; then
	$T kill-server >/dev/null 2>&1 || true
	SOCK="council-smoke-$$-serve"
	T="tmux -L $SOCK"
	$T new-session -d -s smoke -x 160 -y 20 "env -u COUNCIL_CONFIG XDG_CONFIG_HOME=/nonexistent HOME=/nonexistent bash --norc --noprofile"
	keys "'$BIN' serve --seed 42 --addr 127.0.0.1:0" Enter # a free port, read from the screen
	wait_for 'serving on http://127.0.0.1:[0-9]+' 10
	URL=$(screen | grep -Eo 'http://127.0.0.1:[0-9]+' | head -1)
	out=$(curl -s -D- $URL/v1/chat/completions -d '{"model":"council/race","messages":[{"role":"user","content":"How do indexes work?"}]}')
	echo "$out" | grep -qi '^x-council-winner: sim/' || fail "serve: no x-council-winner header: $out"
	echo "$out" | grep -q '"council":{"session":"s1"' || fail "serve: no council summary: $out"
	ev=$(curl -sN --max-time 2 $URL/v1/council/events || true)
	echo "$ev" | grep -q '^event: session_done' || fail "serve: the event stream lacks the finished session: $ev"
	echo "$ev" | grep -q '^event: health' || fail "serve: no health on the event stream"
	keys C-c
	wait_for 'drained, bye' 10
	echo "smoke: serve answered, streamed its events, drained on ctrl+c"
else
	echo "smoke: curl not installed, council serve skipped"
fi

echo "smoke: council watch"
# A test server streams the demo council's sessions (engine/watch/watchtest).
(cd "$(dirname "$0")/.." && ${GO:-go} test -c -o "$WATCHDIR/watchserve" ./engine/watch/watchtest) || fail "watch: cannot build the test server"
serve() { # ADDR: serve there; ADDR is then the address taken
	rm -f "$WATCHDIR/addr"
	COUNCIL_WATCH_SERVE=$1 COUNCIL_WATCH_ADDR_FILE="$WATCHDIR/addr" COUNCIL_WATCH_EVERY=1s COUNCIL_WATCH_FOR=3m \
		"$WATCHDIR/watchserve" -test.run TestServeLoopback -test.timeout 0 >"$WATCHDIR/log" 2>&1 &
	SERVER=$!
	local i
	for ((i = 0; i < 100; i++)); do [ -s "$WATCHDIR/addr" ] && break; sleep 0.1; done
	[ -s "$WATCHDIR/addr" ] || fail "watch: the test server did not start: $(cat "$WATCHDIR/log")"
	ADDR=$(cat "$WATCHDIR/addr")
}
serve 127.0.0.1:0
start_cmd 160 48 "'$BIN' watch http://$ADDR" 'watching'
wait_for "● $ADDR" 10
wait_for '(decided|degraded): sim/[a-z]+ won' 20
screen | grep -q 'following the latest' || fail "watch: not following the latest session"
keys r
wait_for 'sessions start on the servers' 5
keys o
wait_for 'read-only: give --admin-token' 5
keys L
wait_for 'Sessions .*enter show' 5
keys Escape
keys '['
wait_for 'picked' 5
keys F
wait_for 'following the latest' 5
echo "smoke: watch follows, picks, lists; read-only keys say so"
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
wait_for "reconnecting to $ADDR in [0-9.]+m?s \\(attempt [0-9]+\\)" 10
serve "$ADDR"
wait_for "● $ADDR" 30
wait_for '(decided|degraded): sim/[a-z]+ won' 20
echo "smoke: watch reconnected"
quit_and_check_restored
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=""
for pid in "${SIZE_PIDS[@]}"; do
	if ! wait "$pid"; then
		cat "$WATCHDIR"/size-*.log >&2
		echo "smoke: FAIL: a size's checks failed (above)" >&2
		exit 1
	fi
done
SIZE_PIDS=()
cat "$WATCHDIR"/size-*.log
echo "smoke: ok"
