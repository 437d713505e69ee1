// Command bench measures what people wait for many times a day: `cdk synth`
// of the default environment through the CLI, the app's own synthesis of
// each environment, and the whole test suite (make test) with a warm build
// cache, current test binaries in bin/test/ and no test-result cache, like
// the synthesis it is compared with, which runs a current bin/platform; and,
// for information, once more with the root test binary relinked, as after a
// change to the app's Go code. It reports the median wall time and the median peak
// memory (resident set of the whole process tree) over several runs, checks
// the speed targets, and can write the figures into docs/development.md.
//
// Usage (from the repository root, after `npm ci`):
//
//	go run ./tools/bench [-runs 5] [-readme]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/example/platform/internal/cdkcontext"
	"github.com/example/platform/internal/readme"
)

// benchDoc is the document whose bench section the figures go into.
const benchDoc = "docs/development.md"

type measurement struct {
	name    string
	command string
	wall    []time.Duration
	peakMiB []float64
}

func (m *measurement) median() (time.Duration, float64) {
	w := append([]time.Duration(nil), m.wall...)
	p := append([]float64(nil), m.peakMiB...)
	sort.Slice(w, func(i, j int) bool { return w[i] < w[j] })
	sort.Float64s(p)
	return w[len(w)/2], p[len(p)/2]
}

func main() {
	runs := flag.Int("runs", 5, "runs per command; the median is reported")
	readme := flag.Bool("readme", false, "write the results into "+benchDoc+" between the bench markers")
	flag.Parse()
	if err := run(*runs, *readme); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(runs int, writeReadme bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	bin := filepath.Join(root, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "cdk")); err != nil {
		return fmt.Errorf("%w: run `npm ci` (or `make bench`) first", err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "CDK_DISABLE_VERSION_CHECK=1")
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Warm up: the app binary and the test binaries are built, the Go build
	// cache is warm; what is measured is what a developer waits for again.
	for _, warm := range [][]string{{"make", "-s", "bin/platform"}, {"make", "-s", "test", "GOTESTFLAGS=-count=1 -run=^NoTestIsNamedSo"}} {
		if out, err := command(env, warm...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(warm, " "), err, out)
		}
	}

	contexts := map[string]string{}
	for _, e := range []string{"dev", "prod"} {
		ctx, err := appContext(e)
		if err != nil {
			return err
		}
		contexts[e] = ctx
	}
	ms := []*measurement{
		{name: "cdk synth, default environment, through the CLI", command: "cdk synth --no-lookups --quiet --output DIR"},
		{name: "app synthesis, dev", command: "CDK_CONTEXT_JSON='<cdk.json + cdk.context.json, env=dev>' CDK_OUTDIR=DIR bin/platform"},
		{name: "app synthesis, prod", command: "CDK_CONTEXT_JSON='<cdk.json + cdk.context.json, env=prod>' CDK_OUTDIR=DIR bin/platform"},
		{name: "make test, test binaries current (warm build cache, no result cache)", command: "make -s test GOTESTFLAGS=-count=1"},
		{name: "make diff, default environment against its goldens", command: "make -s diff"},
		{name: "make test after a change to the app's Go code (for information)", command: "rm bin/test/platform.test && make -s test GOTESTFLAGS=-count=1"},
	}
	for i := range runs {
		for j, m := range ms {
			out := filepath.Join(tmp, fmt.Sprintf("%d-%d", i, j))
			var cmd *exec.Cmd
			switch j {
			case 0:
				cmd = command(env, filepath.Join(bin, "cdk"), "synth", "--no-lookups", "--quiet", "--output", out)
			case 1, 2:
				e := map[int]string{1: "dev", 2: "prod"}[j]
				cmd = command(append(env, "CDK_CONTEXT_JSON="+contexts[e], "CDK_OUTDIR="+out), filepath.Join(root, "bin", "platform"))
			case 3:
				cmd = command(env, "make", "-s", "test", "GOTESTFLAGS=-count=1")
			case 4:
				cmd = command(env, "make", "-s", "diff")
			case 5:
				// A change to lib/ or a root test relinks the root test
				// binary (128 MB, with aws-cdk-go) and only that one; the
				// recompile it also needs is not measured, as nowhere here.
				if err := os.Remove(filepath.Join(root, "bin", "test", "platform.test")); err != nil {
					return err
				}
				cmd = command(env, "make", "-s", "test", "GOTESTFLAGS=-count=1")
			}
			wall, peak, err := measure(cmd)
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			m.wall = append(m.wall, wall)
			m.peakMiB = append(m.peakMiB, peak)
			fmt.Fprintf(os.Stderr, "run %d/%d  %-50s %6.2fs %7.0f MiB\n", i+1, runs, m.name, wall.Seconds(), peak)
		}
	}

	report := render(ms, runs)
	fmt.Print(report)
	if writeReadme {
		if err := replaceSection(benchDoc, "bench", report); err != nil {
			return err
		}
	}
	if strings.Contains(report, "MISSED") {
		return errors.New("a target was missed")
	}
	return nil
}

func command(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// measure runs cmd and samples the resident memory of its whole process
// group (the CLI, the Go app and its Node child) every 20 ms.
func measure(cmd *exec.Cmd) (time.Duration, float64, error) {
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak float64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return 0, 0, fmt.Errorf("%w\n%s", err, stderr.String())
			}
			return time.Since(start), peak, nil
		case <-tick.C:
			peak = max(peak, groupRSSMiB(cmd.Process.Pid))
		}
	}
}

// groupRSSMiB sums the resident set of every process in the process group.
func groupRSSMiB(pgid int) float64 {
	entries, _ := os.ReadDir("/proc")
	page := float64(os.Getpagesize())
	var total float64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the parenthesized command: state ppid pgrp ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 22 || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		rss, _ := strconv.ParseFloat(fields[21], 64)
		total += rss * page
	}
	return total / (1 << 20)
}

// appContext is what the CLI hands the app: cdk.json's context, the cached
// lookups of cdk.context.json and -c env=NAME.
func appContext(env string) (string, error) {
	ctx, err := cdkcontext.Read(".")
	if err != nil {
		return "", err
	}
	ctx["env"] = env
	raw, err := json.Marshal(ctx)
	return string(raw), err
}

func render(ms []*measurement, runs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `make bench` on %s: %s, %d CPUs, %s RAM; %s, Node %s; median of %d runs.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), memTotal(), runtime.Version(), nodeVersion(), runs)
	b.WriteString("| what | command | median wall | median peak memory |\n|---|---|---|---|\n")
	wall := map[int]time.Duration{}
	for i, m := range ms {
		w, p := m.median()
		wall[i] = w
		fmt.Fprintf(&b, "| %s | `%s` | %.1f s | %.0f MiB |\n", m.name, m.command, w.Seconds(), p)
	}
	direct := wall[1] + wall[2]
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	fmt.Fprintf(&b, "\nTargets: the test suite takes %.1f s, %.2f× one direct synthesis of all environments (%.1f s; target at most 2×): %s. "+
		"`cdk synth` takes %.2f× the app's own synthesis of dev (target at most 1.3×): %s. "+
		"`make diff` takes %.2f× `cdk synth` (target at most 1.5×): %s.\n",
		wall[3].Seconds(), wall[3].Seconds()/direct.Seconds(), direct.Seconds(), verdict(wall[3] <= 2*direct),
		wall[0].Seconds()/wall[1].Seconds(), verdict(float64(wall[0]) <= 1.3*float64(wall[1])),
		wall[4].Seconds()/wall[0].Seconds(), verdict(float64(wall[4]) <= 1.5*float64(wall[0])))
	fmt.Fprintf(&b, "\nThe target compares like with like: neither side links (make keeps bin/platform, go test keeps bin/test/). "+
		"For information, no target: after a change to the app's Go code, which relinks the root test binary, the suite takes %.1f s, %.2f× "+
		"(the recompile such a change also needs is not measured).\n",
		wall[5].Seconds(), wall[5].Seconds()/direct.Seconds())
	return b.String()
}

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	raw, _ := os.ReadFile("/proc/meminfo")
	var kb float64
	fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(raw), "\n", 2)[0], "MemTotal:"), "%f", &kb)
	return fmt.Sprintf("%.0f GiB", kb/(1<<20))
}

func nodeVersion() string {
	out, err := exec.Command(filepath.Join("node_modules", ".bin", "node"), "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func replaceSection(path, name, body string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := readme.ReplaceSection(raw, name, body)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
