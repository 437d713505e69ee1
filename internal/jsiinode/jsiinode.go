// Package jsiinode chooses the Node that the jsii runtime starts: the
// repository's tools/jsii-node, which runs V8's garbage collector on the
// main thread only (see that script for why).
package jsiinode

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/aws/jsii-runtime-go"
)

// Script is the wrapper, relative to the repository root.
const Script = "tools/jsii-node"

// MaxCPUs is the most CPUs on which Script is used: measured faster on 2
// cores, where V8's parallel collector competes with the main thread for
// the second one; on more cores, unmeasured, the collector has cores of its
// own and the runtime's default stays.
const MaxCPUs = 2

// cpus is runtime.NumCPU, replaceable in tests.
var cpus = runtime.NumCPU

// Node is the Node the jsii runtime should start for a program running in
// root: root's Script, or "" for the runtime's default (node on PATH)
// when the caller chose a Node or a runtime itself (JSII_NODE or
// JSII_RUNTIME set), the machine has more than MaxCPUs, or the script is
// missing, e.g. when the process does not run from the repository.
func Node(root string) string {
	if node := os.Getenv("JSII_NODE"); node != "" || os.Getenv("JSII_RUNTIME") != "" || cpus() > MaxCPUs {
		return ""
	}
	script, err := filepath.Abs(filepath.Join(root, Script))
	if err != nil {
		return ""
	}
	if info, err := os.Stat(script); err != nil || info.Mode()&0o111 == 0 {
		return ""
	}
	return script
}

// Exec makes the running program use Node(root): the jsii runtime reads
// JSII_NODE while the aws-cdk-go packages initialize (they register their
// types), before main or TestMain runs, so the program runs itself again
// with the variable set, once, after closing the runtime it prepared (that
// removes its temporary copy of the runtime; Node had not started). It
// returns, and the program goes on with the default, when there is nothing
// to change or the program cannot run itself again.
func Exec(root string) {
	node := Node(root)
	if node == "" {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	jsii.Close()
	_ = syscall.Exec(self, os.Args, environ(os.Environ(), node))
}

// environ is env with JSII_NODE=node instead of any JSII_NODE it has (an
// empty one among them: the program would otherwise read that and run
// itself again).
func environ(env []string, node string) []string {
	out := []string{"JSII_NODE=" + node}
	for _, kv := range env {
		if !strings.HasPrefix(kv, "JSII_NODE=") {
			out = append(out, kv)
		}
	}
	return out
}
