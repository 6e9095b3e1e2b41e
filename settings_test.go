package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/synctest"
)

// --system-file, --max-tokens, --temperature and --max-cost reach the
// session: a model that refuses a temperature gets a note, answers keep
// to the token cap, and a cap too small refuses the session up front.
func TestRunRequestSettingsAndCap(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(string(mustRead(t, "testdata/fast.toml")), `id = "sim/b"`, "id = \"sim/b\"\nmodel = \"o4-mini\"", 1)
	cfgPath, sysPath := dir+"/c.toml", dir+"/system.txt"
	os.WriteFile(cfgPath, []byte(cfg), 0o600)
	os.WriteFile(sysPath, []byte("Answer in one sentence.\n"), 0o600)
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code := council(t, nil, "run", "--config", cfgPath, "--json", "--seed", "1",
			"--system-file", sysPath, "--max-tokens", "5", "--temperature", "0.2", "How do indexes work?")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var sum struct {
			Models []struct {
				ID           string `json:"id"`
				OutputTokens int    `json:"output_tokens"`
				Note         string `json:"note"`
			} `json:"models"`
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		for _, m := range sum.Models {
			if m.OutputTokens > 5 {
				t.Errorf("%s answered %d tokens over --max-tokens 5", m.ID, m.OutputTokens)
			}
			if (m.ID == "sim/b") != strings.Contains(m.Note, "temperature dropped") {
				t.Errorf("%s note %q: only sim/b (o4-mini) refuses a temperature", m.ID, m.Note)
			}
		}
	})
	_, errOut, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--max-cost", "0.000001", "x")
	if code != 2 || !strings.Contains(errOut, "over the spending cap") {
		t.Errorf("--max-cost too small: exit %d, %q", code, errOut)
	}
	_, errOut, code = council(t, nil, "run", "--temperature", "3", "x")
	if code != 2 || !strings.Contains(errOut, "from 0 to 2") {
		t.Errorf("--temperature 3: exit %d, %q", code, errOut)
	}
}
