package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Engine runs the CDK's diff engine, tools/cfndiff.js, with the pinned
// Node.
type Engine struct {
	// Node is the node executable; Script the path of cfndiff.js.
	Node, Script string
	// Scratch is a directory for the engine's input.
	Scratch string
}

// Pair is two templates the engine compares.
type Pair struct {
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// Diff is what the engine says about one pair.
type Diff struct {
	Name  string `json:"name"`
	Empty bool   `json:"empty"`
	// Added and Updated count the resources the change adds and updates
	// in place.
	Added   int    `json:"added"`
	Updated int    `json:"updated"`
	Text    string `json:"text"`
	// Changes are the resources it would replace, destroy or orphan.
	Changes []DestructiveChange `json:"changes"`
	// Additions are the resources the deployed template adds.
	Additions []Addition `json:"additions"`
}

// Addition is one resource the deployed template adds.
type Addition struct {
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
}

// DestructiveChange is one resource the engine would replace, possibly replace,
// destroy or orphan, with the properties that cause it.
type DestructiveChange struct {
	LogicalID  string   `json:"logicalId"`
	Type       string   `json:"type"`
	Impact     string   `json:"impact"`
	Properties []string `json:"properties"`
}

// Run compares every pair in one Node process; with text it also renders
// each non-empty diff as `cdk diff` prints it.
func (e Engine) Run(pairs []Pair, text bool) ([]Diff, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	input := filepath.Join(e.Scratch, "pairs.json")
	raw, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(input, raw, 0o644); err != nil {
		return nil, err
	}
	args := []string{e.Script, input}
	if text {
		args = []string{e.Script, "--text", input}
	}
	cmd := exec.Command(e.Node, args...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(e.Node)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil, fmt.Errorf("%s: %w\n%s", e.Script, err, exit.Stderr)
	}
	if err != nil {
		return nil, err
	}
	var diffs []Diff
	if err := json.Unmarshal(out, &diffs); err != nil {
		return nil, fmt.Errorf("%s printed something else than its JSON: %w\n%s", e.Script, err, out)
	}
	return diffs, nil
}
