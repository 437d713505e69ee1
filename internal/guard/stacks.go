package guard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/example/platform/internal/cfn"
)

// Identity is what makes a stack the same stack to CloudFormation: its
// name, account and region; and whether the stack is protected from
// deletion, which is reviewed with it.
type Identity struct {
	StackName             string `json:"stackName"`
	Account               string `json:"account"`
	Region                string `json:"region"`
	TerminationProtection bool   `json:"terminationProtection,omitempty"`
}

func (i Identity) String() string {
	return fmt.Sprintf("%s (account %s, %s)", i.StackName, i.Account, i.Region)
}

// SameStack reports whether a reviewed stack and a deployed one are the
// same CloudFormation stack: the same name in the same region and account.
// A reviewed placeholder account is the same as any account: committing
// the real account configures the environment, it does not move it.
func SameStack(reviewed, deployed Identity, placeholderAccounts []string) bool {
	account := reviewed.Account == deployed.Account || slices.Contains(placeholderAccounts, reviewed.Account)
	return account && reviewed.StackName == deployed.StackName && reviewed.Region == deployed.Region
}

// Stack is one stack on one side of a comparison.
type Stack struct {
	// ID is the stack's construct ID (its file name in the assembly).
	ID       string
	Identity Identity
	// File is its template's path, for the diff engine; "" where the side
	// has no template of it. Template is that template, parsed.
	File     string
	Template cfn.Template
}

// Comparison is one environment's reviewed and deployed stacks, under a
// label that prefixes everything the judgement says about it.
type Comparison struct {
	Label              string
	Reviewed, Deployed []Stack
}

// Source reads the files of one side: the working tree, or a revision of
// a git repository.
type Source struct {
	// Repo is the repository's directory; Rev a revision in it, or "" for
	// the files as they are in Repo.
	Repo, Rev string
	// Scratch is where files read from a revision are written, so the diff
	// engine can read them.
	Scratch string
}

// Path returns the path of a file of the source, readable on disk, or ""
// when it does not exist there.
func (s Source) Path(path string) (string, error) {
	if s.Rev == "" {
		full := filepath.Join(s.Repo, path)
		if _, err := os.Stat(full); errors.Is(err, fs.ErrNotExist) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		return full, nil
	}
	cmd := exec.Command("git", "show", s.Rev+":"+filepath.ToSlash(path))
	cmd.Dir = s.Repo
	out, err := cmd.Output()
	if err != nil {
		return "", nil // not in that revision
	}
	tmp := filepath.Join(s.Scratch, strings.NewReplacer("/", "-", string(filepath.Separator), "-").Replace(s.Rev+"-"+path))
	return tmp, os.WriteFile(tmp, out, 0o644)
}

// Reviewed reads the reviewed state of one environment from its golden
// directory in the source (testdata/ENV): the identities recorded in
// stacks.json and the template of each. Without stacks.json (a revision
// from before identities were recorded) the stacks are taken to have the
// fallback identities.
func Reviewed(src Source, dir string, fallback map[string]Identity) ([]Stack, error) {
	ids := fallback
	path, err := src.Path(filepath.Join(dir, "stacks.json"))
	if err != nil {
		return nil, err
	}
	if path != "" {
		ids = map[string]Identity{}
		if err := readJSON(path, &ids); err != nil {
			return nil, err
		}
	}
	var out []Stack
	for _, id := range sortedKeys(ids) {
		s := Stack{ID: id, Identity: ids[id]}
		if s.File, err = src.Path(filepath.Join(dir, id+".template.json")); err != nil {
			return nil, err
		}
		if s.File != "" {
			if err := readJSON(s.File, &s.Template); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Assembly reads what a cloud assembly would deploy: every stack of its
// manifest with its identity and template.
func Assembly(dir string) ([]Stack, error) {
	var manifest struct {
		Artifacts map[string]struct {
			Type        string `json:"type"`
			Environment string `json:"environment"`
			Properties  struct {
				StackName             string `json:"stackName"`
				TemplateFile          string `json:"templateFile"`
				TerminationProtection bool   `json:"terminationProtection"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := readJSON(filepath.Join(dir, "manifest.json"), &manifest); err != nil {
		return nil, err
	}
	var out []Stack
	for _, id := range sortedKeys(manifest.Artifacts) {
		a := manifest.Artifacts[id]
		if a.Type != "aws:cloudformation:stack" {
			continue
		}
		account, region, _ := strings.Cut(strings.TrimPrefix(a.Environment, "aws://"), "/")
		s := Stack{ID: id, Identity: Identity{a.Properties.StackName, account, region, a.Properties.TerminationProtection}, File: filepath.Join(dir, a.Properties.TemplateFile)}
		if err := readJSON(s.File, &s.Template); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Identities maps each stack's ID to its identity.
func Identities(stacks []Stack) map[string]Identity {
	out := map[string]Identity{}
	for _, s := range stacks {
		out[s.ID] = s.Identity
	}
	return out
}

func readJSON(path string, into any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
