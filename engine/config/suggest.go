package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

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
