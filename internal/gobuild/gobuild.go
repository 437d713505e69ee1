// Package gobuild builds a Go command of this module for AWS Lambda's
// provided.al2023 runtime on arm64 (Graviton), with the local Go toolchain,
// and names the build by the hash of its sources.
package gobuild

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Function is a Go command of this module built for Lambda's
// provided.al2023 runtime on arm64. Its hash covers its sources (the
// command's package, the packages of this module it imports, go.mod and
// go.sum); a binary is built once per hash into .build/ and reused by every
// later synthesis.
type Function struct {
	// Command is the package of the function's main, relative to the
	// module root ("lambda/databaseuser"); Imports the module's own packages it
	// uses ("internal/dbusers").
	Command string
	Imports []string
}

var builds sync.Map // source hash -> *build

type build struct {
	once sync.Once
	dir  string
	err  error
}

// Build returns the directory that holds the function's bootstrap
// executable and the hash of its sources, building it when no binary of
// these sources exists yet (once per process and hash).
func (f Function) Build() (dir, hash string, err error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", "", err
	}
	hash, err = f.SourceHash(root)
	if err != nil {
		return "", "", err
	}
	v, _ := builds.LoadOrStore(hash, &build{})
	b, ok := v.(*build)
	if !ok {
		return "", "", fmt.Errorf("gobuild: cache entry %T", v)
	}
	b.once.Do(func() { b.dir, b.err = f.build(root, hash) })
	return b.dir, hash, b.err
}

// SourceHash is the SHA-256 of every non-test Go file of the command and
// its imports, and of go.mod and go.sum, with their paths.
func (f Function) SourceHash(root string) (string, error) {
	return f.hash(root, "go.mod", "go.sum")
}

// PackageHash is the SHA-256 of the non-test Go files of the command and
// its imports only: what defines their behaviour, not the dependencies'
// versions.
func (f Function) PackageHash(root string) (string, error) { return f.hash(root) }

func (f Function) hash(root string, extra ...string) (string, error) {
	var files []string
	for _, dir := range append([]string{f.Command}, f.Imports...) {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
				files = append(files, filepath.ToSlash(filepath.Join(dir, e.Name())))
			}
		}
	}
	slices.Sort(files)
	h := sha256.New()
	for _, name := range append(files, extra...) {
		content, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(content))
		h.Write(content)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// build compiles the command into .build/lambda/NAME-HASH/bootstrap, the
// executable name provided.al2023 runs; a directory that exists holds a
// finished build (it is renamed into place only when complete).
func (f Function) build(root, hash string) (string, error) {
	dir := filepath.Join(root, ".build", "lambda", filepath.Base(f.Command)+"-"+hash[:16])
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
		return dir, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".building-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "build", "-buildvcs=false", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(tmp, "bootstrap"), "./"+f.Command)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the Lambda function %s for linux/arm64: %w\n%s", f.Command, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process finished the same build first.
		if _, statErr := os.Stat(filepath.Join(dir, "bootstrap")); statErr == nil {
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// ModuleRoot is the directory of this module's go.mod, found upwards from
// the working directory (the app runs from the root, tests from their
// package).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: the Lambda functions are built from this module's sources")
		}
		dir = parent
	}
}
