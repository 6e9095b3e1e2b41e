package config

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

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
	if err := p.syntax(); err != nil {
		return nil, err
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

	written := md.Keys()
	isSet := func(key ...string) bool { return keyWritten(written, key) }
	c.applyDefaults(isSet, tierOrder(written))
	v := &validator{c: &c, file: p.file, pos: p.pos, isSet: isSet}
	if err := v.run(); err != nil {
		return nil, err
	}
	c.keys = p.pos
	return &c, nil
}

// syntax parses the document alone, before it is decoded into a Config: a
// syntax error has a position but no key.
func (p *configParser) syntax() error {
	_, err := toml.Decode(p.src, &struct{}{})
	if err == nil {
		return nil
	}
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: p.file, Msg: "invalid TOML: " + err.Error(), Err: err}
	}
	msg := pe.Message
	if pe.Usage != "" {
		msg += " (" + strings.TrimSpace(strings.SplitN(pe.Usage, "\n", 2)[0]) + ")"
	}
	// The line of the byte it tripped on: the parser counts a line's
	// closing newline as the next line.
	line := pe.Position.Line
	if st := pe.Position.Start; st >= 0 && st <= len(p.src) {
		line = strings.Count(p.src[:st], "\n") + 1
	}
	return &Error{File: p.file, Line: line, Msg: "invalid TOML: " + msg, Err: err}
}

// keyWritten reports whether key, or a key inside it, is among the keys
// written in the file. The toml package matches keys to fields
// case-insensitively, so this does too (md.IsDefined is exact).
func keyWritten(written []toml.Key, key []string) bool {
	if len(key) == 0 {
		return false
	}
	for _, k := range written {
		if len(k) >= len(key) && slices.EqualFunc(k[:len(key)], key, strings.EqualFold) {
			return true
		}
	}
	return false
}

// tierOrder lists the tiers in the order the file defines them.
func tierOrder(written []toml.Key) []string {
	var names []string
	for _, k := range written {
		if len(k) >= 2 && k[0] == "tiers" && !slices.Contains(names, k[1]) {
			names = append(names, k[1])
		}
	}
	return names
}

// line finds where key is written (in [[models]] element elem when elem >= 0),
// or its nearest enclosing table; 0 when unknown.
func (p *configParser) line(key []string, elem int) int {
	return findLine(p.pos, key, elem)
}

// typeErrRE matches the toml package's unstructured decode errors:
// toml: line 3 (last key "breaker.window"): incompatible types: ...
// The package returns a type mismatch as a plain error (MetaData.e), not a
// toml.ParseError, so its key and line are only in its text.
var typeErrRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key ("(?:[^"\\]|\\.)*")\): (.*)$`)

// decodeErr turns a toml decode error into an *[Error]; elem is the
// [[models]] element being decoded, or -1. The line is where the scanner
// found the key in that element, else the one the package gives.
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
