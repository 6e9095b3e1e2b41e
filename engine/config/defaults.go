package config

import (
	"slices"
	"strings"
	"time"
)

// The defaults, applied to every key a config leaves
// out.
const (
	DefaultMaxConcurrency = 8
	DefaultFailureRate    = 0.25
	DefaultMinRequests    = 5
	DefaultBreakerWindow  = 10 * time.Minute
	DefaultCooldown       = 30 * time.Minute
	DefaultHedgeQuantile  = 0.95
	DefaultFallbackDelay  = 2 * time.Second
	DefaultHedgeBudget    = 3 * time.Second
	DefaultMaxExtra       = 0.10
	DefaultVoters         = 5
	DefaultMinResponses   = 3
	DefaultAnswer         = "general"
	DefaultStallTimeout   = 10 * time.Second
	DefaultCouncilMin     = 3
	DefaultRetryAttempts  = 2
	DefaultRetryBackoff   = 250 * time.Millisecond
	DefaultRoute          = "chat"
	DefaultMinConfidence  = 0.6
	DefaultChunkTokens    = 800
	DefaultMaxSections    = 40

	DefaultMaxEventBytes     = 1 << 20
	DefaultMaxAnswerBytes    = 4 << 20
	DefaultMaxErrorBodyBytes = 64 << 10
	DefaultMaxPromptBytes    = 1 << 20
)

// DefaultRoutes are the router's rules when the config gives none:
// support tickets to classify go to consensus over the ticket categories,
// code to race, decisions and high-stakes prompts (legal, medical,
// security, money, the board) to the council, yes/no questions to a
// consensus answering yes or no, and chat (the default route) to hedge.
// Keywords are whole words (see [RouteConfig]); patterns weigh twice a
// keyword, so the words that alone say what a prompt is live in patterns.
// Earlier routes win ties: a ticket that mentions an error is still a
// ticket, and "Should I stop taking my medication?" is high-stakes before
// it is a yes/no question.
func DefaultRoutes() []RouteConfig {
	return []RouteConfig{
		classificationRoute(),
		codeRoute(),
		highStakesRoute(),
		yesNoRoute(),
		{Name: "chat", Strategy: Hedge},
	}
}

// classificationRoute routes prompts to classify (support tickets above all) to a
// consensus over the ticket categories.
func classificationRoute() RouteConfig {
	return RouteConfig{Name: "classification", Strategy: Consensus,
		Keywords: []string{"category", "categories", "label", "tag", "ticket", "support ticket", "sentiment",
			"spam", "customer", "complaint", "queue", "department", "billing", "refund", "intent", "urgency", "priority"},
		Patterns: []string{
			`(?i)\b(classify|classification|categori[sz]e|triage)\b`,
			`(?i)^\s*(please\s+)?(tag|label|assign|sort|route|file)\b`,
			`(?i)\b(which|what) (category|team|department|queue|label|bucket|tag)\b`,
			`(?im)^\s*(ticket|customer|subject|support ticket|support request|message)\s*(#\s*\d+)?\s*:`,
			`(?i)\b(billing|technical|account|general)( issue| problem| question| ticket)?\s*(,|/|or)\s*(an? )?(billing|technical|account|general)\b`,
			`(?i)\b(positive|negative) or (positive|negative|neutral)\b`,
		}}
}

// codeRoute routes code to race.
func codeRoute() RouteConfig {
	return RouteConfig{Name: "code", Strategy: Race,
		Keywords: []string{"code", "coding", "function", "func", "method", "variable", "compile", "compiler",
			"bug", "debug", "debugger", "debugging", "breakpoint", "script", "program", "programming", "api",
			"endpoint", "json", "yaml", "database", "docker", "kubernetes", "git", "npm", "pip", "python",
			"java", "rust", "c++", "c#", "react", "component", "node.js", "bash", "exception", "error",
			"null", "nil", "array", "recursion", "recursive", "algorithm", "big-o", "repo", "repository",
			"commit", "pull request", "merge conflict", "library", "dependency", "interface", "struct",
			"integer", "parse", "parser", "query", "linux", "crash", "deadlock", "mutex", "async", "lambda",
			"syntax", "cli", "div", "pandas", "numpy", "vs code", "http", "https", "ssh", "github", "gitlab",
			"sqlite", "postgres", "postgresql", "mysql", "mongodb", "redis", "class", "string", "mock",
			"type hints", "for loop", "while loop", "list comprehension", "race condition", "memory leak",
			"garbage collection", "callback", "runtime", "backend", "frontend", "web server", "dockerfile",
			"stack overflow", "tests", "compiles", "build fails"},
		Patterns: []string{
			"```",
			`\b\w+\([^)]*\)\s*[{:]`,
			`\b\w+\.\w+\([^)]*\)`,
			`\)\s*\{`,
			`(?m)^\s*(import|package|def|class|func|fn|#include|from \S+ import)\b`,
			`(?i)\b(golang|typescript|javascript|sql|html|css|segfault|segmentation fault|traceback|stack ?trace|refactor\w*|regexp?|regular expression|goroutines?|nil pointer|null pointer|unit tests?|linter|kotlin|haskell|rustc|cargo)\b`,
			`\b(in|with|using|learn|written in|idiomatic) Go\b|\bGo (tests?|code|programs?|modules?|structs?|functions?|channels?|interfaces?|generics|compiler|web server|server|service|binary)\b`,
			`(?i)\b(write|implement|fix|debug|optimi[sz]e|refactor|test) (a|an|the|this|my) (\w+ ){0,2}(function|method|class|struct|program|query|endpoint|module|script)s?\b`,
			`\b[A-Z][a-zA-Z]*(Error|Exception)\b`,
			`\b[\w-]+\.(go|py|js|ts|tsx|jsx|rs|java|cpp|rb|php|cs|sh|sql|ya?ml|toml)\b`,
			`(?i)\b(npm|pip|cargo|git|docker|kubectl|go) (install|run|build|test|get|mod|commit|push|pull|rebase|merge|checkout|compose|apply|vet)\b`,
			`(?i)\b(select .+ from|insert into|update \w+ set|create table)\b`,
			`:=|!=|==|&&|\|\||=>|\+\+|\+=|<=`,
		}}
}

// highStakesRoute routes decisions and high-stakes prompts (legal,
// medical, security, money, the board) to the council.
func highStakesRoute() RouteConfig {
	return RouteConfig{Name: "high-stakes", Strategy: Council, MinWords: 80,
		Keywords: []string{"decide", "decision", "weigh", "risk", "risky", "trade-off", "tradeoff", "pros and cons",
			"legal", "lawyer", "attorney", "lawsuit", "sue", "court", "settlement", "contract", "liability",
			"liable", "compliance", "regulator", "regulatory", "gdpr", "hipaa", "audit", "cease-and-desist",
			"trademark", "copyright", "infringement", "evict*", "medical", "medication", "medicine",
			"diagnos*", "symptom*", "dosage", "dose", "surgery", "doctor", "prescription", "pregnant",
			"pregnancy", "chest pain", "fever", "rash", "a&e", "emergency room", "ambulance", "overdose",
			"injur*", "antidepressant*", "ibuprofen", "paracetamol", "insulin", "antibiotic*",
			"blood thinner*", "security", "breach", "data leak", "vulnerability", "invest", "investing",
			"investment*", "investor*", "mortgage", "retirement", "pension", "inheritance", "savings",
			"tax", "debt", "loan", "co-sign", "acquisition", "merger", "layoff*", "board", "shareholder",
			"strategy", "strategic", "roadmap", "architecture", "migration", "migrate", "vendor", "budget",
			"in depth", "in-depth", "critical", "irreversible", "long-term", "consequences", "should we",
			"should i", "should our", "quit my job", "divorce", "custody", "insurance", "fraud",
			"recommendation", "evaluate", "assess", "option", "alternatives"},
		Patterns: []string{
			`(?i)\bfor (the|our|my) (board|investors|shareholders|ceo|cfo|cto|executive team|leadership|exec team)\b`,
			`(?i)\b(pros and cons|trade-?offs?|risks? and (benefits|costs|rewards|mitigations?)|costs? and risks?|cost-benefit|risk assessment)\b`,
			`(?i)\b(legal|medical|financial|security|compliance|regulatory|tax) (advice|risks?|review|implications?|exposure|audit|consequences|obligations?|liability|decision|return|options)\b`,
			`(?i)\b(is|are) (it|this|that|they) (legal|lawful|illegal)\b`,
			`(?i)\b(taper(ing)? off|side effects?|drug interactions?|interacts? with|safe (dose|dosage|to take))\b`,
			`(?i)\b(help (me|us) (decide|choose|weigh)|make (a|the) (decision|call)|go/no-go|recommend whether|whether (we|i) should)\b`,
			// A weighty choice put in one line: "Sign the contract or walk away?"
			`(?i)^\s*(sign|accept|reject|approve|hire|fire|sell|invest|settle|operate|launch|quit|raise|acquire|expand|delay|disclose|sue|refinance|retire|relocate|take the (job|offer|deal|settlement|buyout|loan|plea))\b[^?]{0,80}\bor\b[^?]*\?\s*$`,
		}}
}

// yesNoRoute routes yes/no questions to a consensus answering yes or no;
// a request or a choice phrased as a question is not one.
func yesNoRoute() RouteConfig {
	return RouteConfig{Name: "yes-no", Strategy: Consensus, Categories: []string{"yes", "no"},
		Patterns: []string{
			`(?i)(^|[.!?:;\n]\s*)(is|are|am|was|were|does|do|did|has|have|had|can|could|should|shall|will|would|may|might|must|isn't|aren't|wasn't|weren't|doesn't|don't|didn't|hasn't|haven't|can't|cannot|couldn't|shouldn't|won't|wouldn't)\s[^.!?\n]{0,200}\?\s*$`,
			`(?i)\b(yes or no|yes/no|true or false)\b`,
		},
		Unless: []string{
			// A request phrased as a question: "Could you explain ...?"
			`(?i)(^|[.!?\n]\s*)(please\s+)?(can|could|would|will|won't|wouldn't)\s+(you|u|someone|anyone)\s+(please\s+)?(explain|write|help|tell|give|show|make|list|summari[sz]e|translate|check|create|generate|recommend|suggest|find|fix|describe|draft|review|compare|provide|look|send|walk|teach|outline|rewrite|proofread|plan|design|build|convert|calculate|estimate|name|share|clarify|elaborate|break|put|turn|read|point|answer|add|remove|format|improve|edit|correct|update|set|book|remind|analy[sz]e|think|come up|sketch|spell|play|sing|pick|choose|guide|do me)\b`,
			`(?i)(^|[.!?\n]\s*)(do|does)\s+(you|anyone|anybody|someone)\s+(know|have)\s+(how|what|where|why|when|who|which|of|a|an|any|some)\b`,
			`(?i)(^|[.!?\n]\s*)(is|are)\s+there\s+(a|an|any)\s+(way|good|better|best|recommended|easy|simple|quick|faster)\b`,
			`(?i)(^|[.!?\n]\s*)(can|could|may)\s+i\s+(ask|get|have)\s+(you|a|an|some)\b`,
			// A choice between things: "Is it X or Y?" ("or not", "or no" stay yes/no).
			`(?i)\bor\s+([^n\W]|n[^o\W]|no[^t\W]|not\w)[^?.!\n]*\?\s*$`,
		}}
}

// unsetFunc reports whether a key is left out: not written in the file,
// or, for a config built in Go, zero.
type unsetFunc = func(zero bool, key ...string) bool

// applyDefaults fills what the config leaves out. isSet reports whether a
// key is written in the file (so that an explicit 0 is kept, and then
// validated); nil means "a zero value is unset", for configs built in Go.
// tierOrder is the order the file defines its tiers in.
func (c *Config) applyDefaults(isSet func(key ...string) bool, tierOrder []string) {
	unset := func(zero bool, key ...string) bool {
		if isSet != nil {
			return !isSet(key...)
		}
		return zero
	}
	if unset(c.DefaultStrategy == "", "default_strategy") {
		c.DefaultStrategy = Race
	}
	if c.FollowUp == "" {
		c.FollowUp = FollowOwn
	}
	if unset(c.MaxConcurrency == 0, "max_concurrency") {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	c.breakerDefaults(unset)
	c.hedgeDefaults(unset)
	c.routerDefaults(unset)
	c.sectionDefaults(unset)
	c.retryDefaults(unset)
	c.serveDefaults(unset)
	c.sharedDefaults(unset)
	c.limitsDefaults(unset)
	c.consensusDefaults(unset)
	c.providerDefaults()
	c.modelDefaults()
	c.tierDefaults(isSet)
	if unset(c.DefaultTier == "", "default_tier") {
		c.DefaultTier = c.firstTier(tierOrder)
	}
}

func (c *Config) breakerDefaults(unset unsetFunc) {
	b := &c.Breaker
	if unset(b.FailureRate == 0, "breaker", "failure_rate") {
		b.FailureRate = DefaultFailureRate
	}
	if unset(b.MinRequests == 0, "breaker", "min_requests") {
		b.MinRequests = DefaultMinRequests
	}
	if unset(b.Window.Duration == 0, "breaker", "window") {
		b.Window.Duration = DefaultBreakerWindow
	}
	if unset(b.Cooldown.Duration == 0, "breaker", "cooldown") {
		b.Cooldown.Duration = DefaultCooldown
	}
}

func (c *Config) retryDefaults(unset unsetFunc) {
	rt := &c.Retry
	if unset(rt.Attempts == 0, "retry", "attempts") {
		rt.Attempts = DefaultRetryAttempts
	}
	if unset(rt.Backoff.Duration == 0, "retry", "backoff") {
		rt.Backoff.Duration = DefaultRetryBackoff
	}
}

func (c *Config) hedgeDefaults(unset unsetFunc) {
	h := &c.Hedge
	if unset(h.Delay == HedgeDelay{}, "hedge", "delay") {
		h.Delay = HedgeDelay{Quantile: DefaultHedgeQuantile}
	}
	if unset(h.FallbackDelay.Duration == 0, "hedge", "fallback_delay") {
		h.FallbackDelay.Duration = DefaultFallbackDelay
	}
	if unset(h.Budget.Duration == 0, "hedge", "budget") {
		h.Budget.Duration = DefaultHedgeBudget
	}
	if unset(h.MaxExtra == 0, "hedge", "max_extra") {
		h.MaxExtra = DefaultMaxExtra
	}
	if unset(!h.Replace, "hedge", "replace") {
		h.Replace = true
	}
}

// routerDefaults fills [council] and [router].
func (c *Config) routerDefaults(unset unsetFunc) {
	co := &c.Council
	if unset(co.MinResponses == 0, "council", "min_responses") {
		co.MinResponses = DefaultCouncilMin
	}
	r := &c.Router
	if unset(r.DefaultRoute == "", "router", "default_route") {
		r.DefaultRoute = DefaultRoute
	}
	if unset(r.MinConfidence == 0, "router", "min_confidence") {
		r.MinConfidence = DefaultMinConfidence
	}
	if len(r.Routes) == 0 {
		r.Routes = DefaultRoutes()
	}
}

func (c *Config) sectionDefaults(unset unsetFunc) {
	sc := &c.Section
	if unset(sc.Split == "", "section", "split") {
		sc.Split = SplitHeadings
	}
	if unset(sc.ChunkTokens == 0, "section", "chunk_tokens") {
		sc.ChunkTokens = DefaultChunkTokens
	}
	if unset(sc.MaxSections == 0, "section", "max_sections") {
		sc.MaxSections = DefaultMaxSections
	}
	if unset(sc.Merge == "", "section", "merge") {
		sc.Merge = MergeConcat
	}
	if unset(sc.VoteCategories == nil, "section", "vote_categories") {
		sc.VoteCategories = []string{"ok", "risk"}
	}
}

func (c *Config) limitsDefaults(unset unsetFunc) {
	l := &c.Limits
	if unset(l.MaxEventBytes == 0, "limits", "max_event_bytes") {
		l.MaxEventBytes = DefaultMaxEventBytes
	}
	if unset(l.MaxAnswerBytes == 0, "limits", "max_answer_bytes") {
		l.MaxAnswerBytes = DefaultMaxAnswerBytes
	}
	if unset(l.MaxErrorBodyBytes == 0, "limits", "max_error_body_bytes") {
		l.MaxErrorBodyBytes = DefaultMaxErrorBodyBytes
	}
	if unset(l.MaxPromptBytes == 0, "limits", "max_prompt_bytes") {
		l.MaxPromptBytes = DefaultMaxPromptBytes
	}
}

func (c *Config) consensusDefaults(unset unsetFunc) {
	cs := &c.Consensus
	if unset(cs.Voters == 0, "consensus", "voters") {
		cs.Voters = DefaultVoters
	}
	if unset(cs.MinResponses == 0, "consensus", "min_responses") {
		cs.MinResponses = min(DefaultMinResponses, max(cs.Voters, 1))
	}
	if unset(cs.TieBreak == "", "consensus", "tie_break") {
		cs.TieBreak = TieEscalate
	}
	// "general" is the default answer only where it is a valid answer; a
	// config with other categories must choose its own (validated when
	// tie_break is "default").
	if unset(cs.DefaultAnswer == "", "consensus", "default_answer") {
		cs.DefaultAnswer = ""
		if len(cs.Categories) == 0 || slices.Contains(cs.Categories, DefaultAnswer) {
			cs.DefaultAnswer = DefaultAnswer
		}
	}
}

// providerDefaults gives each provider its kind (when named after one) and
// the variable its key is read from.
func (c *Config) providerDefaults() {
	for name, p := range c.Providers {
		if f, ok := lookupKind(name); ok && p.Kind == "" && !f.NeedsBaseURL {
			p.Kind = name // [providers.openai] needs no kind = "openai"
		}
		if p.APIKeyEnv == "" && p.APIKey == "" && p.APIKeyCmd == "" {
			// The kind's first variable; its others are tried too when
			// the key is resolved.
			if f, ok := lookupKind(p.Kind); ok && len(f.KeyEnvs) > 0 {
				p.APIKeyEnv = f.KeyEnvs[0]
			}
		}
		c.Providers[name] = p
	}
}

// modelDefaults runs after providerDefaults: a model of a simulated kind
// gets a [models.sim] table.
func (c *Config) modelDefaults() {
	for i := range c.Models {
		m := &c.Models[i]
		if m.Model == "" {
			m.Model = vendorModel(m.ID)
		}
		if m.Sim == nil && simulated(c.Providers[m.Provider].Kind) {
			m.Sim = &SimConfig{} // the sim package has defaults for every zero
		}
	}
}

// tierDefaults gives a config without tiers the tier quick of every model,
// and every tier its timeouts and, without models, every model.
func (c *Config) tierDefaults(isSet func(key ...string) bool) {
	if len(c.Tiers) == 0 && len(c.Models) > 0 {
		c.Tiers = map[string]TierConfig{"quick": {}}
	}
	ids := c.modelIDs()
	for name, t := range c.Tiers {
		t.fill(name, func(key string) bool { return isSet != nil && isSet("tiers", name, key) })
		if t.Models == nil {
			t.Models = slices.Clone(ids)
		}
		c.Tiers[name] = t
	}
}

// firstTier is the default tier: quick, else the first the file defines,
// else the first of [Config.TierOrder].
func (c *Config) firstTier(tierOrder []string) string {
	if _, ok := c.Tiers["quick"]; ok {
		return "quick"
	}
	if len(tierOrder) > 0 {
		return tierOrder[0]
	}
	if names := c.TierOrder(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// fill applies the tier timeouts' defaults (quick's for a tier not among
// [TierNames]). isSet reports keys written in the file; nil means zero is
// unset.
func (t *TierConfig) fill(name string, isSet func(key string) bool) {
	unset := func(zero bool, key string) bool {
		if isSet != nil && isSet(key) {
			return false
		}
		return zero
	}
	d, ok := tierDefaults[name]
	if !ok {
		d = tierDefaults["quick"]
	}
	if unset(t.Timeout.Duration == 0, "timeout") {
		t.Timeout.Duration = d[0]
	}
	if unset(t.PerModelTimeout.Duration == 0, "per_model_timeout") {
		t.PerModelTimeout.Duration = d[1]
	}
	if unset(t.StallTimeout.Duration == 0, "stall_timeout") {
		t.StallTimeout.Duration = DefaultStallTimeout
	}
}

// vendorModel is a model id's part after the first "/", or the id.
func vendorModel(id string) string {
	if _, after, ok := strings.Cut(id, "/"); ok && after != "" {
		return after
	}
	return id
}

// ApplyDefaults fills the zero values of a Config built in Go with the
// defaults [Parse] applies to keys a file leaves out. A zero that has a
// non-zero default (hedge delay 0s, max_extra 0) cannot be told from a
// missing value here: set it after ApplyDefaults.
func (c *Config) ApplyDefaults() { c.applyDefaults(nil, nil) }
