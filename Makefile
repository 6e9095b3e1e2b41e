# council: make run starts the dashboard on the built-in demo council (no key
# needed); make test is what CI runs.
GO      ?= go
BIN     ?= ./council
PKGS    := ./...

.PHONY: all build run demo docs test vet fmt-check unit claims smoke compat bench soak fuzz clean

all: build

build:
	$(GO) build -o $(BIN) .

# The dashboard; with no config and no API key it uses the demo council.
run: build
	$(BIN)

# One headless demo session of each strategy.
demo: build
	$(BIN) run --strategy race "How do database indexes work?"
	$(BIN) run --strategy hedge "What makes a good sourdough starter?"
	$(BIN) run --strategy consensus "I was charged twice for my subscription this month"
	$(BIN) run --strategy council "How do database indexes work?"
	$(BIN) run --strategy auto "Is my invoice overdue?"
	$(BIN) run --strategy section --input testdata/contract.md "Summarise each clause and flag anything one-sided"

# The docs' terminal captures and keys table, regenerated from the golden
# tests' frames and the keymaps (make test fails when they differ).
docs:
	$(GO) test ./ui -run '^(TestDocCaptures|TestREADMEKeysByScreen)$$' -update

test: vet fmt-check unit claims smoke

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -race $(PKGS)

# The bench claims docs/bench.md's table makes, rerun from their commands
# (about 30,000 virtual-clock sessions; without -race, which would only
# slow them: the same code runs under -race in unit).
claims:
	COUNCIL_DOC_CLAIMS=1 $(GO) test -run '^TestDocBenchClaims$$' -count=1 .

# council serve driven by the official OpenAI Node SDK (testdata/compat);
# the SDK is installed once into .cache/compat. Also part of unit; skipped
# where node or npm is missing, a failure under CI=true when npm cannot install.
compat:
	$(GO) test -run TestCompatNodeSDK -count=1 -v .

# Drives the real binary in tmux as a person would; skipped where tmux is absent.
smoke: build
	@if command -v tmux >/dev/null 2>&1; then bash .ci/smoke.sh $(BIN); \
	else echo "smoke: tmux not installed, skipped"; fi

# The Go benchmarks (engine overhead, live races and cancellation, the
# dashboard's frame, council serve and its overhead beside a bare
# httputil.ReverseProxy, a step of bench's virtual clock), one
# short workload on the virtual clock and in real time (how far apart their
# percentiles are), then council serve's load test: 200 streaming clients
# over loopback for 30 s (added latency, throughput, goroutines and heap).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./engine ./ui ./engine/serve ./engine/watch
	$(GO) test -run '^$$' -bench VirtualStep -benchmem ./engine/bench
	$(GO) test -run '^$$' -bench VirtualVsRealClock -benchtime 1x ./engine/bench
	COUNCIL_LOAD=30s $(GO) test -run TestLoad -count=1 -v ./engine/serve
	$(GO) test -run '^$$' -bench FleetSession ./engine/fleet
	$(GO) test -run '^$$' -bench FleetTrip -benchtime 5x ./engine/fleet

# 5,000 sessions of every strategy over fast simulated models that fail,
# stall and get cut; reports goroutines and heap before and after.
soak:
	COUNCIL_SOAK=5000 $(GO) test -run TestSoak -count=1 -v -timeout 30m ./engine

# The property test as a fuzz target: random sessions (every strategy with
# retries, fallbacks, hedge budgets, caps, follow-ups, cancels and faults)
# checked against the invariants every session keeps. make test runs a
# bounded, seeded share of it (TestCompositions); new failures land in
# engine/testdata/fuzz/FuzzCompositions. Then the fast JSON paths against
# encoding/json: serve's request reader (FuzzFastRead), its answers'
# envelope (FuzzEnvelope) and the validity check (FuzzValidJSON); make
# test runs their seeds.
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzCompositions -fuzztime 2m ./engine
	$(GO) test -run '^$$' -fuzz FuzzFastRead -fuzztime 1m ./engine/serve
	$(GO) test -run '^$$' -fuzz FuzzEnvelope -fuzztime 1m ./engine/serve
	$(GO) test -run '^$$' -fuzz FuzzValidJSON -fuzztime 1m ./providers

clean:
	rm -f $(BIN)
