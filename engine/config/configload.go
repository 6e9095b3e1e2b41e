package config

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/council-dev/council/providers"
)

// Error is a bad config: it names the file, the line and the key, so
// that a typo never falls back silently to a default.
type Error struct {
	File string // the config's path or name ("council.toml")
	Line int    // 1-based; 0 when unknown
	Key  string // dotted TOML key ("tiers.quick.timeout"); empty when unknown
	Msg  string
	// Err is the underlying error, if any (a file that cannot be read).
	Err error
}

// Error returns "council.toml:12: key tiers.quick.timout: unknown key".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(cmp.Or(e.File, "config"))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Load reads, decodes and validates the config file at path. Its
// Source is path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := "cannot read the config file"
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no such config file"
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg += ": " + pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: msg, Err: err}
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Why = "read from " + path
	return c, nil
}

// Find resolves which config to use: flagPath (from --config), then
// $COUNCIL_CONFIG, then $XDG_CONFIG_HOME/council/council.toml (or
// ~/.config/council/council.toml) if it exists, else [DefaultCouncil]. It sets
// Source and Why. getenv is os.Getenv outside tests.
func Find(flagPath string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if flagPath != "" {
		c, err := Load(flagPath)
		if err != nil {
			return nil, err
		}
		c.Why = "given with --config"
		return c, nil
	}
	if p := getenv("COUNCIL_CONFIG"); p != "" {
		c, err := Load(p)
		if err != nil {
			return nil, err
		}
		c.Why = "named by $COUNCIL_CONFIG"
		return c, nil
	}
	if p := userConfigPath(getenv); p != "" {
		_, err := os.Stat(p)
		switch {
		case err == nil:
			c, err := Load(p)
			if err != nil {
				return nil, err
			}
			c.Why = "found at the standard location " + p
			return c, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, &Error{File: p, Msg: "cannot read the config file: " + err.Error(), Err: err}
		}
	}
	return DefaultCouncil(getenv), nil
}

// userConfigPath is $XDG_CONFIG_HOME/council/council.toml, else
// $HOME/.config/council/council.toml; empty when neither is known.
func userConfigPath(getenv func(string) string) string {
	// The XDG spec says a relative XDG_CONFIG_HOME is invalid and ignored.
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "council", "council.toml")
	}
	home := getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "council", "council.toml")
}

// rawConfig is Config with the models left undecoded, so that each one is
// decoded on its own and an error inside it knows which [[models]] it is in.
type rawConfig struct {
	Config
	Models []toml.Primitive `toml:"models"`
}

// Parse decodes a TOML config, rejects unknown keys, applies the
// defaults and validates. source names the config in errors (a path).
// Every error is a *[Error] naming the file, line and key.
//
// A model's `model` (the vendor's name) defaults to its id after the first
// "/" ("openai/gpt-4.1-mini" -> "gpt-4.1-mini"), or the whole id. A config
// without tiers gets one tier, quick, of every model; a tier without
// `models` gets every model.
func Parse(data []byte, source string) (*Config, error) {
	p := &configParser{file: source, src: string(data)}
	c, err := p.parse()
	if err != nil {
		return nil, err
	}
	c.Source = source
	return c, nil
}

type configParser struct {
	file string
	src  string
	pos  []keyPos
}

func (p *configParser) parse() (*Config, error) {
	// Syntax first, on its own: a syntax error has a position but no key.
	var generic map[string]any
	if _, err := toml.NewDecoder(strings.NewReader(p.src)).Decode(&generic); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			msg := pe.Message
			if pe.Usage != "" {
				msg += " (" + strings.TrimSpace(strings.SplitN(pe.Usage, "\n", 2)[0]) + ")"
			}
			// The line of the byte it tripped on: the parser counts a
			// line's closing newline as the next line.
			line := pe.Position.Line
			if st := pe.Position.Start; st >= 0 && st <= len(p.src) {
				line = strings.Count(p.src[:st], "\n") + 1
			}
			return nil, &Error{File: p.file, Line: line, Msg: "invalid TOML: " + msg, Err: err}
		}
		return nil, &Error{File: p.file, Msg: "invalid TOML: " + err.Error(), Err: err}
	}
	p.pos = scanKeys(p.src)

	var raw rawConfig
	md, err := toml.NewDecoder(strings.NewReader(p.src)).Decode(&raw)
	if err != nil {
		return nil, p.decodeErr(err, -1)
	}
	c := raw.Config
	c.Models = make([]ModelConfig, len(raw.Models))
	for i, prim := range raw.Models {
		if err := md.PrimitiveDecode(prim, &c.Models[i]); err != nil {
			return nil, p.decodeErr(err, i)
		}
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return nil, &Error{File: p.file, Line: p.line(k, -1), Key: k.String(), Msg: unknownKeyMsg(k)}
	}

	// The toml package matches keys case-insensitively, so "is this key
	// written" must too (md.IsDefined is exact).
	isSet := func(key ...string) bool { return definedFold(generic, key) }
	c.applyDefaults(isSet, p.tierOrder())
	v := &validator{c: &c, file: p.file, pos: p.pos, isSet: isSet}
	if err := v.run(); err != nil {
		return nil, err
	}
	c.keys = p.pos
	return &c, nil
}

// Errorf reports a problem with a top-level key found outside the engine
// (the dashboard's theme, say) as a *[Error] naming the config's
// file and the key's line.
func (c *Config) Errorf(key, format string, args ...any) error {
	return &Error{File: c.Source, Line: findLine(c.keys, []string{key}, -1), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// definedFold reports whether key is in the decoded document m, matching
// each part exactly or else case-insensitively.
func definedFold(m map[string]any, key []string) bool {
	var cur any = m
	for _, k := range key {
		mm, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		v, ok := mm[k]
		if !ok {
			for kk, vv := range mm {
				if strings.EqualFold(kk, k) {
					v, ok = vv, true
					break
				}
			}
		}
		if !ok {
			return false
		}
		cur = v
	}
	return len(key) > 0
}

// tierOrder lists the tiers in the order the file defines them.
func (p *configParser) tierOrder() []string {
	var names []string
	for _, kp := range p.pos {
		if len(kp.segs) >= 2 && kp.segs[0] == "tiers" && !slices.Contains(names, kp.segs[1]) {
			names = append(names, kp.segs[1])
		}
	}
	return names
}

// line finds where key is written (in [[models]] element elem when elem >= 0),
// or its nearest enclosing table; 0 when unknown.
func (p *configParser) line(key []string, elem int) int {
	return findLine(p.pos, key, elem)
}

func findLine(pos []keyPos, key []string, elem int) int {
	for n := len(key); n > 0; n-- {
		for _, kp := range pos {
			if (elem < 0 || kp.elem == elem) && slices.Equal(kp.segs, key[:n]) {
				return kp.line
			}
		}
	}
	return 0
}

// typeErrRE matches the toml package's unstructured decode errors:
// toml: line 3 (last key "breaker.window"): incompatible types: ...
var typeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)

// decodeErr turns a toml decode error into a Error; elem is the
// [[models]] element being decoded, or -1.
func (p *configParser) decodeErr(err error, elem int) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		key := parseKey(pe.LastKey)
		line := p.line(key, elem)
		if line == 0 || len(key) == 0 {
			line = pe.Position.Line
		}
		return &Error{File: p.file, Line: line, Key: pe.LastKey, Msg: pe.Message, Err: err}
	}
	if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
		keyStr, _ := strconv.Unquote(m[2])
		key := parseKey(keyStr)
		line := p.line(key, elem)
		if line == 0 && m[1] != "" {
			line, _ = strconv.Atoi(m[1])
		}
		msg := friendlyTypeMsg(m[3])
		if keyStr == "models" && strings.HasSuffix(msg, "got a table") {
			msg += ": write [[models]], with double brackets, before each model"
		}
		return &Error{File: p.file, Line: line, Key: keyStr, Msg: msg, Err: err}
	}
	return &Error{File: p.file, Msg: err.Error(), Err: err}
}

var incompatRE = regexp.MustCompile(`^incompatible types: TOML value has type (.+); destination has type (.+)$`)

// friendlyTypeMsg rewrites "incompatible types: TOML value has type string;
// destination has type float" as "want a number, got a string".
func friendlyTypeMsg(msg string) string {
	m := incompatRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return "wrong type: want " + describeGoType(m[2]) + ", got " + describeGoType(m[1])
}

func describeGoType(t string) string {
	switch {
	case t == "string" || strings.HasPrefix(t, "primitive"):
		return "a string"
	case t == "int64" || t == "integer":
		return "an integer"
	case t == "float64" || t == "float":
		return "a number"
	case t == "bool":
		return "true or false"
	case t == "time.Time":
		return "a date-time"
	case strings.HasPrefix(t, "[]") || t == "slice":
		return "an array"
	case strings.HasPrefix(t, "map") || t == "table":
		return "a table"
	}
	return t
}

// unknownKeyMsg says a key is unknown and suggests the nearest known one.
func unknownKeyMsg(k toml.Key) string {
	known := knownKeys(k[:len(k)-1])
	if len(known) == 0 {
		return "unknown key"
	}
	last := k[len(k)-1]
	best, bestD := "", 3
	for _, name := range known {
		if d := editDistance(strings.ToLower(last), name); d < bestD {
			best, bestD = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown key (did you mean %q?)", best)
	}
	return "unknown key (known here: " + strings.Join(known, ", ") + ")"
}

// knownKeys lists the keys the config accepts inside the table at parent.
func knownKeys(parent []string) []string {
	t := reflect.TypeFor[Config]()
	deref := func() {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
	}
	for _, seg := range parent {
		deref()
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByTag(t, seg)
			if !ok {
				return nil
			}
			t = f.Type
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	deref()
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[Duration]() {
		return nil
	}
	var names []string
	for f := range t.Fields() {
		if tag := tomlName(f); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for f := range t.Fields() {
		if strings.EqualFold(tomlName(f), name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tomlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Model returns the model config by id.
func (c *Config) Model(id string) (ModelConfig, bool) {
	for _, m := range c.Models {
		if m.ID == id {
			return m, true
		}
	}
	return ModelConfig{}, false
}

// Tier returns the tier config by name, with the defaults applied to any
// zero timeout (a hand-built Config may leave them out).
func (c *Config) Tier(name string) (TierConfig, bool) {
	t, ok := c.Tiers[name]
	if !ok {
		return TierConfig{}, false
	}
	t.fill(name, nil)
	if t.Models == nil {
		t.Models = c.modelIDs()
	}
	return t, true
}

// TierOrder lists the tier names: the standard ones (quick, balanced, high,
// reasoning) first in that order, then the others sorted.
func (c *Config) TierOrder() []string {
	var names, others []string
	for _, n := range TierNames {
		if _, ok := c.Tiers[n]; ok {
			names = append(names, n)
		}
	}
	for n := range c.Tiers {
		if !slices.Contains(TierNames, n) {
			others = append(others, n)
		}
	}
	sort.Strings(others)
	return append(names, others...)
}

func (c *Config) modelIDs() []string {
	ids := make([]string, len(c.Models))
	for i, m := range c.Models {
		ids[i] = m.ID
	}
	return ids
}

// Warnings returns problems that do not stop the program: an inline api_key
// in a file others can read, timeouts that cannot take effect, simulated
// answers outside the consensus categories.
func (c *Config) Warnings() []string {
	var w []string
	var inline []string
	for _, name := range sortedKeys(c.Providers) {
		if c.Providers[name].APIKey != "" {
			inline = append(inline, name)
		}
	}
	if len(inline) > 0 {
		if fi, err := os.Stat(c.Source); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			w = append(w, fmt.Sprintf("%s holds an API key (providers %s) and is readable by others: chmod 600 %s",
				c.Source, strings.Join(inline, ", "), c.Source))
		}
	}
	for _, name := range c.TierOrder() {
		t, _ := c.Tier(name)
		if t.PerModelTimeout.Duration > t.Timeout.Duration {
			w = append(w, fmt.Sprintf("tier %s: per_model_timeout %s is longer than its timeout %s, so the session ends first",
				name, t.PerModelTimeout, t.Timeout))
		}
		if t.StallTimeout.Duration >= t.PerModelTimeout.Duration {
			w = append(w, fmt.Sprintf("tier %s: stall_timeout %s is not shorter than per_model_timeout %s, so it never fires",
				name, t.StallTimeout, t.PerModelTimeout))
		}
	}
	if cats := c.Consensus.Categories; len(cats) > 0 {
		for _, m := range c.Models {
			if m.Sim == nil {
				continue
			}
			for _, a := range sortedKeys(m.Sim.Answers) {
				if !containsFold(cats, a) {
					w = append(w, fmt.Sprintf("model %s: simulated answer %q is not among consensus.categories, so those votes are invalid", m.ID, a))
				}
			}
		}
	}
	return w
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// keyPos is where a key (or a table header) is written in a TOML file.
type keyPos struct {
	segs []string // the key's path, without array indices
	elem int      // element of the outermost array of tables it is in, or -1
	line int
}

// scanKeys finds where each key of a TOML document is written: table and
// array-of-tables headers, dotted keys, inline tables and arrays of inline
// tables. The toml package keeps key positions private, so this small
// scanner recovers them for error messages; it runs only on documents the
// toml package has already parsed, and is best effort.
func scanKeys(src string) []keyPos {
	s := &tomlScanner{src: src, line: 1, aot: map[string]int{}}
	var table []string
	elem := -1
	for s.i < len(s.src) {
		s.skipSpace(true)
		if s.i >= len(s.src) {
			break
		}
		if s.src[s.i] == '[' {
			arr := strings.HasPrefix(s.src[s.i:], "[[")
			s.i++
			if arr {
				s.i++
			}
			table = s.key()
			if arr {
				s.aot[toml.Key(table).String()]++
			}
			elem = s.elemOf(table)
			s.add(table, elem)
			s.skipLine()
			continue
		}
		segs := s.key()
		s.skipSpace(false)
		if len(segs) > 0 && s.peek() == '=' {
			s.i++
			full := append(slices.Clone(table), segs...)
			s.add(full, elem)
			s.value(full, elem)
		}
		s.skipLine()
	}
	return s.out
}

type tomlScanner struct {
	src  string
	i    int
	line int
	out  []keyPos
	aot  map[string]int // [[path]] -> elements seen so far
}

func (s *tomlScanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *tomlScanner) add(segs []string, elem int) {
	s.out = append(s.out, keyPos{segs: slices.Clone(segs), elem: elem, line: s.line})
}

// elemOf is the element index of the outermost array of tables on path.
func (s *tomlScanner) elemOf(path []string) int {
	for n := 1; n <= len(path); n++ {
		if c, ok := s.aot[toml.Key(path[:n]).String()]; ok {
			return c - 1
		}
	}
	return -1
}

// skipSpace skips blanks; with nl, also newlines and comments.
func (s *tomlScanner) skipSpace(nl bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			s.i++
		case nl && c == '\n':
			s.i++
			s.line++
		case nl && c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

// skipLine skips to the start of the next line.
func (s *tomlScanner) skipLine() {
	for s.i < len(s.src) {
		c := s.src[s.i]
		s.i++
		if c == '\n' {
			s.line++
			return
		}
	}
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// key reads a dotted key: bare, "basic" or 'literal' parts.
func (s *tomlScanner) key() []string {
	var segs []string
	for s.i < len(s.src) {
		s.skipSpace(false)
		c := s.peek()
		switch {
		case c == '"' || c == '\'':
			start := s.i
			s.str()
			raw := s.src[start:s.i]
			if u, err := strconv.Unquote(raw); c == '"' && err == nil {
				raw = u
			} else if len(raw) >= 2 {
				raw = raw[1 : len(raw)-1]
			}
			segs = append(segs, raw)
		case isBare(c):
			start := s.i
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
			segs = append(segs, s.src[start:s.i])
		default:
			return segs
		}
		s.skipSpace(false)
		if s.peek() != '.' {
			return segs
		}
		s.i++
	}
	return segs
}

// parseKey splits a dotted key as toml.Key.String writes it.
func parseKey(k string) []string {
	s := &tomlScanner{src: k, aot: map[string]int{}}
	return s.key()
}

// str skips a string of any of the four kinds, counting lines.
func (s *tomlScanner) str() {
	q := s.src[s.i]
	triple := strings.Repeat(string(q), 3)
	multi := strings.HasPrefix(s.src[s.i:], triple)
	if multi {
		s.i += 3
	} else {
		s.i++
	}
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i++
			if s.i < len(s.src) && s.src[s.i] == '\n' {
				s.line++
			}
			s.i++
		case c == '\n':
			if !multi {
				return
			}
			s.line++
			s.i++
		case multi && strings.HasPrefix(s.src[s.i:], triple):
			s.i += 3
			// Up to two more quotes may end the content: """a"""""
			for n := 0; n < 2 && s.peek() == q; n++ {
				s.i++
			}
			return
		case !multi && c == q:
			s.i++
			return
		default:
			s.i++
		}
	}
}

// value skips a value, recording the keys of inline tables in it.
func (s *tomlScanner) value(path []string, elem int) {
	s.skipSpace(false)
	switch c := s.peek(); c {
	case '"', '\'':
		s.str()
	case '[':
		s.i++
		for n := 0; s.i < len(s.src); n++ {
			s.skipSpace(true)
			if s.peek() == ']' {
				s.i++
				return
			}
			e := elem
			if e < 0 && s.peek() == '{' {
				e = n // an inline array of tables counts like [[path]]
			}
			before := s.i
			s.value(path, e)
			s.skipSpace(true)
			if s.peek() == ',' {
				s.i++
			}
			if s.i == before {
				s.i++
			}
		}
	case '{':
		s.i++
		for s.i < len(s.src) {
			s.skipSpace(true)
			switch s.peek() {
			case '}':
				s.i++
				return
			case ',':
				s.i++
				continue
			}
			before := s.i
			segs := s.key()
			s.skipSpace(false)
			if len(segs) > 0 && s.peek() == '=' {
				s.i++
				full := append(slices.Clone(path), segs...)
				s.add(full, elem)
				s.value(full, elem)
			}
			if s.i == before {
				s.i++
			}
		}
	default:
		for s.i < len(s.src) && strings.IndexByte(",]}\n#", s.src[s.i]) < 0 {
			s.i++
		}
	}
}

// ApplyDefaults fills the zero values of a Config built in Go with the
// defaults [Parse] applies to keys a file leaves out. A zero that has a
// non-zero default (hedge delay 0s, max_extra 0) cannot be told from a
// missing value here: set it after ApplyDefaults.
func (c *Config) ApplyDefaults() { c.applyDefaults(nil, nil) }

// Validate checks a Config built in Go (after [Config.ApplyDefaults]) by
// the rules [Parse] applies to files; the error is a *[Error]
// with no line.
func (c *Config) Validate() error {
	v := &validator{c: c, file: cmp.Or(c.Source, "config")}
	return v.run()
}

// validator checks a decoded config with the defaults applied, and reports
// the problem nearest the top of the file.
type validator struct {
	c     *Config
	file  string
	pos   []keyPos
	isSet func(key ...string) bool // nil for a config built in Go
	errs  []*Error
}

// errAt records a problem with key (in [[models]] element elem when >= 0).
func (v *validator) errAt(key []string, elem int, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: findLine(v.pos, key, elem),
		Key: toml.Key(key).String(), Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) set(key ...string) bool { return v.isSet != nil && v.isSet(key...) }

func (v *validator) run() error {
	c := v.c
	if _, err := ParseStrategy(string(c.DefaultStrategy)); err != nil {
		v.errAt([]string{"default_strategy"}, -1, "%v", err)
	} else if c.DefaultStrategy == Section {
		v.errAt([]string{"default_strategy"}, -1, "section needs a document: choose it per run with --strategy section --input FILE")
	}
	if c.Retry.Attempts < 0 || c.Retry.Attempts > 10 {
		v.errAt([]string{"retry", "attempts"}, -1, "must be from 0 to 10, got %d", c.Retry.Attempts)
	}
	if c.MaxCostUSD < 0 {
		v.errAt([]string{"max_cost_usd"}, -1, "cannot be negative, got %g", c.MaxCostUSD)
	}
	if c.FollowUp != FollowOwn && c.FollowUp != FollowWinner {
		v.errAt([]string{"follow_up"}, -1, "must be %q or %q, got %q", FollowOwn, FollowWinner, c.FollowUp)
	}
	if c.MaxRunCostUSD < 0 {
		v.errAt([]string{"max_run_cost_usd"}, -1, "cannot be negative, got %g", c.MaxRunCostUSD)
	}
	if c.MaxConcurrency < 1 {
		v.errAt([]string{"max_concurrency"}, -1, "must be at least 1, got %d", c.MaxConcurrency)
	}
	// First, so that at a number's line this is the problem reported.
	v.finite(reflect.ValueOf(c).Elem(), nil, -1)
	v.models()
	v.providers()
	v.tiers()
	v.breaker()
	v.hedge()
	v.consensus()
	v.council()
	v.section()
	v.router()
	v.limits()
	v.serve()
	if len(v.errs) == 0 {
		return nil
	}
	// Line 0 (unknown) sorts last; otherwise the first problem in the file.
	slices.SortStableFunc(v.errs, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = 1 << 30
		}
		if lb == 0 {
			lb = 1 << 30
		}
		return la - lb
	})
	return v.errs[0]
}

// finite reports every number in rv (a part of the config at key, in
// [[models]] or [[router.routes]] element elem) that is NaN or infinite:
// TOML accepts nan and inf, and no key of the config means either.
func (v *validator) finite(rv reflect.Value, key []string, elem int) {
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			v.errAt(key, elem, "must be a finite number, got %g", f)
		}
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			v.finite(rv.Elem(), key, elem)
		}
	case reflect.Struct:
		t := rv.Type()
		for i := range t.NumField() {
			if name := tomlName(t.Field(i)); name != "" {
				v.finite(rv.Field(i), append(slices.Clip(key), name), elem)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			e := elem
			if e < 0 {
				e = i
			}
			v.finite(rv.Index(i), key, e)
		}
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.finite(rv.MapIndex(k), append(slices.Clip(key), k.String()), elem)
		}
	}
}

func (v *validator) rate(key []string, elem int, x float64) {
	if x < 0 || x > 1 || x != x {
		v.errAt(key, elem, "must be between 0 and 1, got %g", x)
	}
}

func (v *validator) positive(key []string, d Duration) {
	if d.Duration <= 0 {
		v.errAt(key, -1, "must be longer than 0")
	}
}

func (v *validator) modelRef(key []string, id string) {
	if id == "" {
		return
	}
	if _, ok := v.c.Model(id); !ok {
		v.errAt(key, -1, "no model has id %q (models: %s)", id, listOr(v.c.modelIDs()))
	}
}

func listOr(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (v *validator) breaker() {
	b := v.c.Breaker
	if b.FailureRate <= 0 || b.FailureRate > 1 || b.FailureRate != b.FailureRate {
		v.errAt([]string{"breaker", "failure_rate"}, -1, "must be more than 0 and at most 1, got %g", b.FailureRate)
	}
	if b.MinRequests < 1 {
		v.errAt([]string{"breaker", "min_requests"}, -1, "must be at least 1, got %d", b.MinRequests)
	}
	v.positive([]string{"breaker", "window"}, b.Window)
	v.positive([]string{"breaker", "cooldown"}, b.Cooldown)
}

func (v *validator) hedge() {
	h := v.c.Hedge
	v.rate([]string{"hedge", "max_extra"}, -1, h.MaxExtra)
	v.modelRef([]string{"hedge", "primary"}, h.Primary)
	v.modelRef([]string{"hedge", "backup"}, h.Backup)
	if h.Primary != "" && h.Primary == h.Backup {
		v.errAt([]string{"hedge", "backup"}, -1, "is the same model as hedge.primary (%s)", h.Primary)
	}
}

func (v *validator) consensus() {
	cs := v.c.Consensus
	key := func(k string) []string { return []string{"consensus", k} }
	if cs.Voters < 1 {
		v.errAt(key("voters"), -1, "must be at least 1, got %d", cs.Voters)
	}
	if cs.MinResponses < 1 {
		v.errAt(key("min_responses"), -1, "must be at least 1, got %d", cs.MinResponses)
	} else if cs.MinResponses > cs.Voters && cs.Voters >= 1 {
		k := key("min_responses")
		if !v.set(k...) && v.set(key("voters")...) {
			k = key("voters") // the user wrote voters; point there
		}
		v.errAt(k, -1, "min_responses (%d) is more than voters (%d): the quorum could never be reached", cs.MinResponses, cs.Voters)
	}
	switch cs.TieBreak {
	case TieEscalate, TieDefault, TieFail:
	default:
		v.errAt(key("tie_break"), -1, "unknown tie_break %q (want escalate, default or fail)", cs.TieBreak)
	}
	// An empty escalate_to is allowed: the engine then asks the tier's
	// strongest (last) model.
	v.modelRef(key("escalate_to"), cs.EscalateTo)
	seen := map[string]bool{}
	for _, cat := range cs.Categories {
		norm := strings.ToLower(strings.TrimSpace(cat))
		switch {
		case norm == "":
			v.errAt(key("categories"), -1, "a category is empty")
		case seen[norm]:
			v.errAt(key("categories"), -1, "category %q is listed twice", cat)
		}
		seen[norm] = true
	}
	if len(cs.Categories) > 0 && cs.DefaultAnswer != "" && !containsFold(cs.Categories, cs.DefaultAnswer) {
		v.errAt(key("default_answer"), -1, "%q is not one of the categories (%s)", cs.DefaultAnswer, strings.Join(cs.Categories, ", "))
	}
	if cs.TieBreak == TieDefault && cs.DefaultAnswer == "" {
		v.errAt(key("tie_break"), -1, `tie_break "default" needs a default_answer among the categories`)
	}
}

func (v *validator) council() {
	co := v.c.Council
	key := func(k string) []string { return []string{"council", k} }
	if co.MinResponses < 1 {
		v.errAt(key("min_responses"), -1, "must be at least 1, got %d", co.MinResponses)
	}
	v.modelRef(key("chairman"), co.Chairman)
	v.modelRef(key("fallback_chairman"), co.FallbackChairman)
	for _, id := range co.Reviewers {
		v.modelRef(key("reviewers"), id)
	}
}

func (v *validator) router() {
	r := v.c.Router
	key := func(k string) []string { return []string{"router", k} }
	v.modelRef(key("classifier"), r.Classifier)
	v.rate(key("min_confidence"), -1, r.MinConfidence)
	names := map[string]bool{}
	for i, rt := range r.Routes {
		rk := func(k string) []string { return []string{"router", "routes", k} }
		switch {
		case rt.Name == "":
			v.errAt(rk("name"), i, "route number %d has no name", i+1)
		case names[rt.Name]:
			v.errAt(rk("name"), i, "route %q is defined twice", rt.Name)
		}
		names[rt.Name] = true
		if st, err := ParseStrategy(string(rt.Strategy)); err != nil {
			v.errAt(rk("strategy"), i, "route %q: %v", rt.Name, err)
		} else if st == Auto {
			v.errAt(rk("strategy"), i, "route %q: a route cannot lead back to auto", rt.Name)
		} else if st == Section {
			v.errAt(rk("strategy"), i, "route %q: a route cannot lead to section, which needs a document (--input)", rt.Name)
		}
		for _, p := range rt.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				v.errAt(rk("patterns"), i, "route %q: pattern %q: %v", rt.Name, p, err)
			}
		}
		v.routeRules(i, rt)
		if rt.Tier != "" {
			if _, ok := v.c.Tiers[rt.Tier]; !ok {
				v.errAt(rk("tier"), i, "route %q: %q is not a tier (tiers: %s)", rt.Name, rt.Tier, listOr(v.c.TierOrder()))
			}
		}
		if rt.MinWords < 0 {
			v.errAt(rk("min_words"), i, "route %q: cannot be negative", rt.Name)
		}
	}
	if len(r.Routes) > 0 && !names[r.DefaultRoute] {
		v.errAt(key("default_route"), -1, "%q is not a route (routes: %s)", r.DefaultRoute, listOr(sortedKeys(names)))
	}
}

func (v *validator) limits() {
	l := v.c.Limits
	for k, n := range map[string]int{"max_event_bytes": l.MaxEventBytes, "max_answer_bytes": l.MaxAnswerBytes,
		"max_error_body_bytes": l.MaxErrorBodyBytes, "max_prompt_bytes": l.MaxPromptBytes} {
		if n < 1 {
			v.errAt([]string{"limits", k}, -1, "must be at least 1 byte, got %d", n)
		}
	}
}

func (v *validator) providers() {
	for _, name := range sortedKeys(v.c.Providers) {
		p := v.c.Providers[name]
		key := func(k string) []string { return []string{"providers", name, k} }
		f, known := lookupKind(p.Kind)
		switch {
		case p.Kind == "":
			v.errAt(key("kind"), -1, "provider %s has no kind (want %s)", name, strings.Join(providers.Kinds(), ", "))
		case !known:
			v.errAt(key("kind"), -1, "unknown provider kind %q (want %s)", p.Kind, strings.Join(providers.Kinds(), ", "))
		case f.NeedsBaseURL && p.BaseURL == "":
			eg := ""
			if f.BaseURLExample != "" {
				eg = " (e.g. " + f.BaseURLExample + ")"
			}
			v.errAt(key("base_url"), -1, "provider %s of kind %s needs a base_url%s", name, p.Kind, eg)
		}
		if p.BaseURL != "" {
			if u, err := url.Parse(p.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.errAt(key("base_url"), -1, "%q is not an http(s) URL", p.BaseURL)
			}
		}
		for _, h := range sortedKeys(p.Headers) {
			switch {
			case strings.TrimSpace(h) == "" || strings.ContainsAny(h, " :\r\n"):
				v.errAt(key("headers"), -1, "provider %s: %q is not a header name", name, h)
			case providers.ReservedHeader(h):
				v.errAt(key("headers"), -1, "provider %s: header %q belongs to the key or the SDK and cannot be set here", name, h)
			}
		}
		for _, q := range sortedKeys(p.Query) {
			if strings.TrimSpace(q) == "" {
				v.errAt(key("query"), -1, "provider %s: a query parameter needs a name", name)
			}
		}
		var sources []string
		if p.APIKey != "" {
			sources = append(sources, "api_key")
		}
		if p.APIKeyCmd != "" {
			sources = append(sources, "api_key_cmd")
		}
		if p.APIKeyEnv != "" && (v.isSet == nil || v.set(key("api_key_env")...)) {
			sources = append(sources, "api_key_env")
		}
		if len(sources) > 1 {
			v.errAt(key(sources[1]), -1, "provider %s sets %s: choose one way to find its key", name, strings.Join(sources, " and "))
		}
	}
}

func (v *validator) models() {
	first := map[string]int{} // id -> index
	for i, m := range v.c.Models {
		key := func(k ...string) []string { return append([]string{"models"}, k...) }
		if m.ID == "" {
			v.errAt(key("id"), i, "model number %d has no id", i+1)
		} else if j, dup := first[m.ID]; dup {
			at := ""
			if l := findLine(v.pos, key("id"), j); l > 0 {
				at = fmt.Sprintf(" (first at line %d)", l)
			}
			v.errAt(key("id"), i, "duplicate model id %q%s", m.ID, at)
		} else {
			first[m.ID] = i
		}
		p, ok := v.c.Providers[m.Provider]
		switch {
		case m.Provider == "":
			v.errAt(key("provider"), i, "model %q has no provider", m.ID)
		case !ok:
			v.errAt(key("provider"), i, "model %q: provider %q is not defined (providers: %s)", m.ID, m.Provider, listOr(sortedKeys(v.c.Providers)))
		}
		if m.InputPerMTok < 0 {
			v.errAt(key("input_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
		}
		if m.OutputPerMTok < 0 {
			v.errAt(key("output_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
		}
		if m.CachedInputPerMTok != nil && *m.CachedInputPerMTok < 0 {
			v.errAt(key("cached_input_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
		}
		if m.CacheWritePerMTok != nil && *m.CacheWritePerMTok < 0 {
			v.errAt(key("cache_write_per_mtok"), i, "model %q: a price cannot be negative", m.ID)
		}
		if m.MaxTokens < 0 {
			v.errAt(key("max_tokens"), i, "model %q: cannot be negative", m.ID)
		}
		if t := m.Temperature; t != nil && (*t < 0 || *t > 2) {
			v.errAt(key("temperature"), i, "model %q: must be between 0 and 2, got %g", m.ID, *t)
		}
		for _, f := range m.Fallbacks {
			if f == m.ID {
				v.errAt(key("fallbacks"), i, "model %q cannot be its own fallback", m.ID)
			} else if _, ok := v.c.Model(f); !ok {
				v.errAt(key("fallbacks"), i, "model %q: no model has id %q (models: %s)", m.ID, f, listOr(v.c.modelIDs()))
			}
		}
		for _, u := range m.Unsupported {
			if !slices.Contains(Settings, u) {
				v.errAt(key("unsupported"), i, "model %q: unknown setting %q (want %s)", m.ID, u, strings.Join(Settings, ", "))
			}
		}
		if m.Sim == nil {
			continue
		}
		if ok && !simulated(p.Kind) {
			v.errAt(key("sim"), i, "model %q: [models.sim] is only for providers of kind %s, and %s is %s", m.ID, simulatedKinds(), m.Provider, p.Kind)
			continue
		}
		s := m.Sim
		for k, x := range map[string]float64{"error_rate": s.ErrorRate, "rate_limit_rate": s.RateLimitRate,
			"stall_rate": s.StallRate, "cut_rate": s.CutRate, "slow_rate": s.SlowRate, "bad_ranking_rate": s.BadRankingRate} {
			v.rate(key("sim", k), i, x)
		}
		if s.TokensPerSec < 0 {
			v.errAt(key("sim", "tokens_per_sec"), i, "model %q: cannot be negative", m.ID)
		}
		if s.OutputTokens < 0 {
			v.errAt(key("sim", "output_tokens"), i, "model %q: cannot be negative", m.ID)
		}
		if s.Capacity < 0 {
			v.errAt(key("sim", "capacity"), i, "model %q: cannot be negative (0: unlimited)", m.ID)
		}
		if s.SlowFactor != 0 && s.SlowFactor < 1 {
			v.errAt(key("sim", "slow_factor"), i, "model %q: must be at least 1 (a slowdown), got %g", m.ID, s.SlowFactor)
		}
		if s.TTFT.Duration > 0 && s.TTFTP95.Duration > 0 && s.TTFTP95.Duration < s.TTFT.Duration {
			v.errAt(key("sim", "ttft_p95"), i, "model %q: ttft_p95 %s is less than the median ttft %s", m.ID, s.TTFTP95, s.TTFT)
		}
		for _, a := range sortedKeys(s.Answers) {
			if w := s.Answers[a]; w < 0 || w != w {
				v.errAt(key("sim", "answers", a), i, "model %q: an answer's weight cannot be negative, got %g", m.ID, w)
			}
		}
	}
}

func (v *validator) tiers() {
	c := v.c
	if len(c.Tiers) == 0 {
		v.errAt([]string{"tiers"}, -1, "no tiers and no models: define [[models]]")
	}
	for _, name := range c.TierOrder() {
		t := c.Tiers[name]
		key := func(k string) []string { return []string{"tiers", name, k} }
		if len(t.Models) == 0 {
			v.errAt(key("models"), -1, "tier %s has no models", name)
		}
		seen := map[string]bool{}
		for _, id := range t.Models {
			if _, ok := c.Model(id); !ok {
				v.errAt(key("models"), -1, "tier %s: no model has id %q (models: %s)", name, id, listOr(c.modelIDs()))
			} else if seen[id] {
				v.errAt(key("models"), -1, "tier %s lists %q twice", name, id)
			}
			seen[id] = true
		}
		if t.MaxTokens < 0 {
			v.errAt(key("max_tokens"), -1, "cannot be negative, got %d", t.MaxTokens)
		}
		if tp := t.Temperature; tp != nil && (*tp < 0 || *tp > 2) {
			v.errAt(key("temperature"), -1, "must be between 0 and 2, got %g", *tp)
		}
		v.positive(key("timeout"), t.Timeout)
		v.positive(key("per_model_timeout"), t.PerModelTimeout)
		v.positive(key("stall_timeout"), t.StallTimeout)
	}
	if c.DefaultTier != "" {
		if _, ok := c.Tiers[c.DefaultTier]; !ok {
			v.errAt([]string{"default_tier"}, -1, "%q is not a tier (tiers: %s)", c.DefaultTier, listOr(c.TierOrder()))
		}
	} else if len(c.Tiers) > 0 {
		v.errAt([]string{"default_tier"}, -1, "is empty")
	}
}

// simulatedKinds names the registered simulated kinds ("sim").
func simulatedKinds() string {
	var names []string
	for _, k := range providers.Kinds() {
		if simulated(k) {
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " or ")
}

// fmtDur writes a duration without trailing zero units: "2m", "1h30m".
func fmtDur(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// KeySource says where a provider's key comes from, for display: "env
// OPENAI_API_KEY (set)", "env OPENAI_API_KEY (not set)", "api_key_cmd",
// "inline key [REDACTED]" or "none". It never contains a key. getenv is
// os.Getenv outside tests.
func (p ProviderConfig) KeySource(getenv func(string) string) string {
	switch {
	case p.APIKey != "":
		return "inline key [REDACTED]"
	case p.APIKeyCmd != "":
		return "api_key_cmd"
	case p.APIKeyEnv != "":
		if getenv == nil {
			getenv = os.Getenv
		}
		if strings.TrimSpace(getenv(p.APIKeyEnv)) != "" {
			return "env " + p.APIKeyEnv + " (set)"
		}
		return "env " + p.APIKeyEnv + " (not set)"
	}
	return "none"
}

// Describe writes the resolved setup, for `council config check`: where the
// config came from and why, the strategy settings, each tier, provider and
// model. It never writes a key: only where each key comes from.
func (c *Config) Describe(w io.Writer, getenv func(string) string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	pct := func(x float64) string { return strconv.FormatFloat(x*100, 'f', -1, 64) + "%" }
	orDash := func(s string) string { return cmp.Or(s, "-") }

	row("source", cmp.Or(c.Source, "(unknown)"))
	if c.Why != "" {
		row("why", c.Why)
	}
	row("strategy", string(c.DefaultStrategy))
	row("tier", c.DefaultTier)
	row("max concurrency", strconv.Itoa(c.MaxConcurrency))
	if c.Theme != "" {
		row("theme", c.Theme)
	}
	b := c.Breaker
	row("breaker", fmt.Sprintf("opens at %s failures over at least %d requests in %s; cooldown %s",
		pct(b.FailureRate), b.MinRequests, fmtDur(b.Window.Duration), fmtDur(b.Cooldown.Duration)))
	h := c.Hedge
	row("hedge", fmt.Sprintf("delay %s (fallback %s), budget %s, max extra %s, primary %s, backup %s",
		h.Delay, fmtDur(h.FallbackDelay.Duration), fmtDur(h.Budget.Duration), pct(h.MaxExtra),
		cmp.Or(h.Primary, "tier's first"), cmp.Or(h.Backup, "tier's second")))
	cs := c.Consensus
	row("consensus", fmt.Sprintf("%d voters, quorum %d, tie-break %s, escalate to %s, default answer %s",
		cs.Voters, cs.MinResponses, cs.TieBreak, cmp.Or(cs.EscalateTo, "tier's last"), orDash(cs.DefaultAnswer)))
	cats := "any"
	if len(cs.Categories) > 0 {
		cats = strings.Join(cs.Categories, ", ")
	}
	row("categories", cats)
	row("retry", fmt.Sprintf("%d more calls before the first token, backoff %s doubling", c.Retry.Attempts, c.Retry.Backoff.Duration))
	caps := "none"
	if c.MaxCostUSD > 0 || c.MaxRunCostUSD > 0 {
		caps = fmt.Sprintf("session $%g, run $%g (0: none)", c.MaxCostUSD, c.MaxRunCostUSD)
	}
	row("spending caps", caps)
	tw.Flush()

	fmt.Fprintln(w, "\ntiers")
	row("  NAME", "TIMEOUT", "PER MODEL", "STALL", "MODELS")
	for _, name := range c.TierOrder() {
		t, _ := c.Tier(name)
		mark := ""
		if name == c.DefaultTier {
			mark = " *"
		}
		row("  "+name+mark, fmtDur(t.Timeout.Duration), fmtDur(t.PerModelTimeout.Duration), fmtDur(t.StallTimeout.Duration), strings.Join(t.Models, ", "))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nproviders")
	row("  NAME", "KIND", "BASE URL", "KEY")
	for _, name := range sortedKeys(c.Providers) {
		p := c.Providers[name]
		base := p.BaseURL
		if base == "" {
			base = "(default)"
		}
		key := p.KeySource(getenv)
		if simulated(p.Kind) {
			base, key = "-", "none needed"
		}
		row("  "+name, p.Kind, base, key)
	}
	tw.Flush()
	describeGateways(w, c.Providers, getenv)

	fmt.Fprintln(w, "\nmodels (prices in USD per million tokens)")
	row("  ID", "PROVIDER", "MODEL", "INPUT", "CACHE READ", "CACHE WRITE", "OUTPUT", "MAX TOKENS")
	price := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	// A cache price left unset is the input price: shown as what is charged.
	cachePrice := func(p *float64, input float64) string {
		if p == nil {
			return price(input)
		}
		return price(*p)
	}
	for _, m := range c.Models {
		maxTok := "default"
		if m.MaxTokens > 0 {
			maxTok = strconv.Itoa(m.MaxTokens)
		}
		row("  "+m.ID, m.Provider, m.Model, price(m.InputPerMTok), cachePrice(m.CachedInputPerMTok, m.InputPerMTok),
			cachePrice(m.CacheWritePerMTok, m.InputPerMTok), price(m.OutputPerMTok), maxTok)
	}
	tw.Flush()
	describeBenchKnobs(w, c.Models)
	c.describeServe(w, getenv)
}

// describeBenchKnobs lists the simulated models' keys that shape what
// council bench measures (a slow tail, a capacity, fixed vote weights),
// when any model sets one.
func describeBenchKnobs(w io.Writer, models []ModelConfig) {
	var rows [][]string
	for _, m := range models {
		s := m.Sim
		if s == nil || (s.SlowRate == 0 && s.Capacity == 0 && len(s.Answers) == 0) {
			continue
		}
		slow, capacity, answers := "-", "unlimited", "by content"
		if s.SlowRate > 0 {
			f := s.SlowFactor
			if f == 0 {
				f = 10
			}
			slow = fmt.Sprintf("%g%% of calls %gx slower", 100*s.SlowRate, f)
		}
		if s.Capacity > 0 {
			capacity = strconv.Itoa(s.Capacity)
		}
		if len(s.Answers) > 0 {
			var parts []string
			for _, a := range sortedKeys(s.Answers) {
				parts = append(parts, fmt.Sprintf("%s %g", a, s.Answers[a]))
			}
			answers = strings.Join(parts, ", ")
		}
		rows = append(rows, []string{"  " + m.ID, slow, capacity, answers})
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintln(w, "\nsimulated models (what council bench measures against)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ID\tSLOW TAIL\tCAPACITY\tANSWERS (the most probable is right)")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// describeGateways lists each provider's gateway headers and query
// parameters by name. A value is never printed: one that names variables
// shows them as written ("${GW_KEY}") and whether each is set; any other
// is an inline value, which may be a secret too.
func describeGateways(w io.Writer, ps map[string]ProviderConfig, getenv func(string) string) {
	for _, name := range sortedKeys(ps) {
		p := ps[name]
		for _, g := range []struct {
			what string
			vals map[string]string
		}{{"header", p.Headers}, {"query", p.Query}} {
			for _, k := range sortedKeys(g.vals) {
				refs := providers.EnvRefs(g.vals[k])
				if len(refs) == 0 {
					fmt.Fprintf(w, "  %s %s %s: inline value\n", name, g.what, k)
					continue
				}
				var vars []string
				for _, v := range refs {
					state := "set"
					if getenv(v) == "" {
						state = "not set"
					}
					vars = append(vars, fmt.Sprintf("${%s} (%s)", v, state))
				}
				fmt.Fprintf(w, "  %s %s %s: %s\n", name, g.what, k, strings.Join(vars, ", "))
			}
		}
	}
}
