package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/council-dev/council/engine"
)

// maxInputBytes bounds a --input document read into memory; the engine
// then refuses one that splits into more than section.max_sections.
const maxInputBytes = 64 << 20

// readInput reads --input (a file, or "-" for stdin) into req.Document;
// a document needs strategy section, and section needs a document and an
// instruction as the prompt. ok is false with the exit code when it fails.
func (c *cli) readInput(input string, req *engine.SessionRequest) (code int, ok bool) {
	// Whether the strategy needs a document is the engine's registry's
	// to say (an empty strategy is the config's default: never section).
	info, ok := engine.LookupStrategy(req.Strategy)
	needs := ok && !info.PromptAlone
	if input == "" {
		if needs {
			return c.usage("--strategy " + string(req.Strategy) + " needs a document: --input FILE (or --input - for stdin)"), false
		}
		return 0, true
	}
	if !needs {
		return c.usage("--input is a document for --strategy " + strings.ReplaceAll(withStrategies("STRATEGIES_DOC"), "|", " or ")), false
	}
	var b []byte
	var err error
	if input == "-" {
		if req.Prompt == "" {
			return c.usage("--input - reads the document from stdin, so give the instruction as an argument"), false
		}
		b, err = c.readStdin()
		if c.ctx.Err() != nil {
			return exitCancelled, false
		}
	} else {
		b, err = readFileLimited(input, maxInputBytes)
	}
	if err != nil {
		return c.usage("reading --input: " + err.Error()), false
	}
	if req.Prompt == "" {
		return c.usage("no instruction: give one as an argument, e.g. \"Summarise each chapter\""), false
	}
	req.Document, req.DocumentName = string(b), input
	return 0, true
}

// readFileLimited reads a file of at most limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d MiB a document may be", path, fi.Size(), limit>>20)
	}
	return os.ReadFile(path)
}

// dashboardInput reads the dashboard's --input document: a file only,
// since the dashboard reads its keys from stdin.
func (c *cli) dashboardInput(input string) (doc string, code int, ok bool) {
	switch input {
	case "":
		return "", 0, true
	case "-":
		return "", c.usage("the dashboard reads keys from stdin: give --input a file"), false
	}
	b, err := readFileLimited(input, maxInputBytes)
	if err != nil {
		return "", c.usage("reading --input: " + err.Error()), false
	}
	return string(b), 0, true
}
