package config

import (
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyPos is where a key (or a table header) is written in a TOML file.
type keyPos struct {
	segs []string // the key's path, without array indices
	elem int      // element of the outermost array of tables it is in, or -1
	line int
}

// findLine is the line where key is written (in the element elem of its
// array of tables when elem >= 0), or its nearest enclosing table's; 0 when
// neither is found.
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

// scanKeys finds where each key of a TOML document is written: table and
// array-of-tables headers, dotted keys, inline tables and arrays of inline
// tables. The toml package records these positions but keeps them private
// (BurntSushi/toml#462 asks for them):
// it reports a line only in a toml.ParseError (syntax, or a value its
// TextUnmarshaler refused) and in the text of a type mismatch, while most
// problems are found after decoding, on values (a tier naming no model, a
// negative price), and each must still name its line. It runs only on
// documents the toml package has already parsed, and is best effort.
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
		s.array(path, elem)
	case '{':
		s.i++
		s.inlineTable(path, elem)
	default:
		for s.i < len(s.src) && strings.IndexByte(",]}\n#", s.src[s.i]) < 0 {
			s.i++
		}
	}
}

// array skips an array's elements and its closing bracket.
func (s *tomlScanner) array(path []string, elem int) {
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
}

// inlineTable records the keys of an inline table and skips to its
// closing brace.
func (s *tomlScanner) inlineTable(path []string, elem int) {
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
}
