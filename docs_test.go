package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/iampolicy"
	"github.com/example/platform/internal/linediff"
	"github.com/example/platform/internal/readme"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's reference tables and the diagrams under docs/ are generated
// from the code and the synthesized templates; these tests fail when they
// drift, and `make docs` (go test -update) rewrites them.

// fieldDocs reads the doc comments of the config package's struct fields,
// keyed "Type.Field". A field that shares the comment of the one above it
// ("A and B are ...") gets that comment too.
func fieldDocs(t *testing.T) map[string]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join("lib", "config", "*.go"))
	require.NoError(t, err)
	docs := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				return true
			}
			previous := ""
			for _, field := range st.Fields.List {
				doc := strings.Join(strings.Fields(field.Doc.Text()), " ")
				if doc == "" {
					doc = previous
				}
				previous = doc
				for _, name := range field.Names {
					docs[ts.Name.Name+"."+name.Name] = doc
				}
			}
			return false
		})
	}
	return docs
}

var defaultSentence = regexp.MustCompile(`\s*Default[^.]*(\.[^ ][^.]*)*\.`)

// meaning is a field's doc comment without its "Default ..." sentences,
// which the table shows as columns.
func meaning(doc string) string {
	m := strings.TrimSpace(defaultSentence.ReplaceAllString(doc, ""))
	return strings.ReplaceAll(m, "|", `\|`)
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return fmt.Sprintf("`%q`", v.String())
	case reflect.Slice:
		if v.Len() == 0 {
			return "none"
		}
		var parts []string
		for i := range v.Len() {
			parts = append(parts, fmt.Sprintf("`%v`", v.Index(i)))
		}
		return strings.Join(parts, ", ")
	case reflect.Float64:
		return fmt.Sprintf("%g", v.Float())
	default:
		return fmt.Sprint(v.Interface())
	}
}

// configTable renders one row per leaf field of Config: name, dev, prod,
// meaning.
func configTable(t *testing.T) string {
	docs := fieldDocs(t)
	// What the environments run: preset and committed file.
	dev, prod := reflect.ValueOf(envs["dev"].cfg), reflect.ValueOf(envs["prod"].cfg)
	var rows []string
	var visit func(typ reflect.Type, d, p reflect.Value, prefix string)
	visit = func(typ reflect.Type, d, p reflect.Value, prefix string) {
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := prefix + f.Name
			if f.Type.Kind() == reflect.Struct {
				visit(f.Type, d.Field(i), p.Field(i), name+".")
				continue
			}
			doc := docs[typ.Name()+"."+f.Name]
			assert.NotEmpty(t, doc, "config field %s has no doc comment", name)
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s |", name, formatValue(d.Field(i)), formatValue(p.Field(i)), meaning(doc)))
		}
	}
	visit(dev.Type(), dev, prod, "")
	return "| field | dev | prod | meaning |\n|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
}

// outputsTable renders every described stack output in deployment order.
func outputsTable() string {
	rows := []string{"| stack | output | name | value |", "|---|---|---|---|"}
	for _, stack := range envs["dev"].platform.Stacks() {
		id := *stack.ArtifactId()
		outputs, _ := envs["dev"].templates[id]["Outputs"].(map[string]any)
		for _, k := range sortedKeys(outputs) {
			desc, ok := cfn.Object(outputs[k])["Description"].(string)
			if !ok {
				continue // an export for another stack, not a user-facing output
			}
			name, value, _ := strings.Cut(desc, ": ")
			rows = append(rows, fmt.Sprintf("| %s | `%s` | %s | %s |", id, k, name, value))
		}
	}
	return strings.Join(rows, "\n") + "\n"
}

// countResources counts the resources of typ in one stack of env whose
// properties keep accepts (all with a nil keep).
func countResources(env, stack, typ string, keep func(props map[string]any) bool) int {
	n := 0
	for _, r := range cfn.Resources(envs[env].templates[stack], typ) {
		if keep == nil || keep(cfn.Props(r)) {
			n++
		}
	}
	return n
}

func interfaceEndpoint(props map[string]any) bool { return props["VpcEndpointType"] == "Interface" }

// capacityTable counts what each environment pays for by the hour, read
// from the templates where they say it.
func capacityTable() string {
	rows := []string{"| what | dev | prod |", "|---|---|---|"}
	cell := func(f func(env string) string) string { return f("dev") + " | " + f("prod") }
	count := func(stack, typ string, keep func(map[string]any) bool) func(string) string {
		return func(env string) string { return fmt.Sprint(countResources(env, stack, typ, keep)) }
	}
	cfg := func(env string) config.Config { return envs[env].cfg }
	rows = append(rows,
		"| availability zones | "+cell(func(e string) string { return fmt.Sprint(len(cfg(e).AvailabilityZones)) })+" |",
		"| NAT gateways | "+cell(count("Network", "AWS::EC2::NatGateway", nil))+" |",
		"| interface endpoints (per zone) | "+cell(count("Network", "AWS::EC2::VPCEndpoint", interfaceEndpoint))+" |",
		"| container instances (min-max) | "+cell(func(e string) string {
			return fmt.Sprintf("%d-%d × `%s`", cfg(e).Cluster.MinInstances, cfg(e).Cluster.MaxInstances, cfg(e).Cluster.InstanceType)
		})+" |",
		"| tasks (min-max) | "+cell(func(e string) string { return fmt.Sprintf("%d-%d", cfg(e).Service.MinTasks, cfg(e).Service.MaxTasks) })+" |",
		"| database | "+cell(func(e string) string {
			d := cfg(e).Database
			az := "single-AZ"
			if d.MultiAZ {
				az = "Multi-AZ (2 instances billed)"
			}
			return fmt.Sprintf("`db.%s`, %s, %d-%d GiB gp3", d.InstanceClass, az, d.AllocatedStorageGiB, d.MaxAllocatedStorageGiB)
		})+" |",
		"| cache nodes | "+cell(func(e string) string {
			return fmt.Sprintf("%d × `%s`", 1+cfg(e).Cache.Replicas, cfg(e).Cache.NodeType)
		})+" |",
		"| load balancers | "+cell(count("LoadBalancer", "AWS::ElasticLoadBalancingV2::LoadBalancer", nil))+" |",
		"| alarms | "+cell(func(e string) string { return fmt.Sprint(len(expectedAlarms(cfg(e)))) })+" |",
	)
	return strings.Join(rows, "\n") + "\n"
}

// listPrices are the public list prices (USD, eu-west-1) the cost table
// uses, as found on 2026-11-29; the eu-west-1 hourly rates of endpoints and
// NAT come from secondary sources (unverified against aws.amazon.com).
var listPrices = struct {
	endpointHour, endpointGB, natHour, natGB, wafACLMonth, wafRuleMonth float64
}{endpointHour: 0.011, endpointGB: 0.01, natHour: 0.048, natGB: 0.048, wafACLMonth: 5, wafRuleMonth: 1}

// costTable prices what each environment pays by the hour for its network
// edge, counted from the templates: interface endpoints per zone against
// NAT gateways, and the web ACL.
func costTable() string {
	const hours = 730
	rows := []string{
		"| item | list price | dev | prod |", "|---|---|---|---|",
	}
	money := func(v float64) string { return fmt.Sprintf("$%.0f", v) }
	var cells [3][2]string
	for i, env := range []string{"dev", "prod"} {
		zones := float64(len(envs[env].cfg.AvailabilityZones))
		eps := float64(countResources(env, "Network", "AWS::EC2::VPCEndpoint", interfaceEndpoint))
		nat := float64(countResources(env, "Network", "AWS::EC2::NatGateway", nil))
		rules := 0
		for _, acl := range cfn.Resources(envs[env].templates["LoadBalancer"], "AWS::WAFv2::WebACL") {
			rules += len(cfn.List(cfn.Props(acl)["Rules"]))
		}
		cells[0][i] = fmt.Sprintf("%.0f × %.0f zones ≈ %s", eps, zones, money(eps*zones*listPrices.endpointHour*hours))
		cells[1][i] = fmt.Sprintf("%.0f ≈ %s", nat, money(nat*listPrices.natHour*hours))
		waf := 0.0
		if rules > 0 {
			waf = listPrices.wafACLMonth + float64(rules)*listPrices.wafRuleMonth
		}
		cells[2][i] = fmt.Sprintf("%d rules ≈ %s", rules, money(waf))
	}
	rows = append(rows,
		fmt.Sprintf("| interface endpoints (per month) | $%g per endpoint per zone-hour, $%g per GB | %s | %s |", listPrices.endpointHour, listPrices.endpointGB, cells[0][0], cells[0][1]),
		fmt.Sprintf("| NAT gateways (per month) | $%g per hour, $%g per GB | %s | %s |", listPrices.natHour, listPrices.natGB, cells[1][0], cells[1][1]),
		"| S3 gateway endpoint | free | $0 | $0 |",
		fmt.Sprintf("| AWS WAF (per month, before requests) | $%g per web ACL, $%g per rule, $0.60 per million requests | %s | %s |", listPrices.wafACLMonth, listPrices.wafRuleMonth, cells[2][0], cells[2][1]),
	)
	return strings.Join(rows, "\n") + "\n"
}

// stacksDot draws the stacks and their dependencies, each edge labelled
// with the number of values imported along it.
func stacksDot() string {
	s := envs["prod"]
	var b strings.Builder
	b.WriteString("// Generated by `make docs` from the synthesized prod app; do not edit.\n")
	b.WriteString("digraph stacks {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n  edge [fontname=Helvetica, fontsize=10];\n")
	imports := map[[2]string]int{}
	for _, i := range cfn.Imports(envs["prod"].templates) {
		imports[[2]string{i.Producer, i.Consumer}]++
	}
	for _, stack := range s.platform.Stacks() {
		id := *stack.ArtifactId()
		res, _ := s.templates[id]["Resources"].(map[string]any)
		fmt.Fprintf(&b, "  %q [label=\"%s\\n%s\\n%d resources\"];\n", id, id, *stack.StackName(), len(res))
	}
	for _, stack := range s.platform.Stacks() {
		id := *stack.ArtifactId()
		for _, dep := range *stack.Dependencies() {
			from := *dep.ArtifactId()
			label := "order"
			if n := imports[[2]string{from, id}]; n > 0 {
				label = fmt.Sprintf("%d imports", n)
			}
			fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", from, id, label)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// networkDot draws the security-group policy as read from the prod
// templates: an edge per allowed ingress flow.
func networkDot(t *testing.T) string {
	var b strings.Builder
	b.WriteString("// Generated by `make docs` from the synthesized prod security-group rules; do not edit.\n")
	b.WriteString("digraph network {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=Helvetica];\n  edge [fontname=Helvetica, fontsize=10];\n")
	b.WriteString("  \"internet\" [shape=ellipse];\n  \"AWS APIs\" [shape=ellipse];\n  \"S3 (gateway endpoint)\" [shape=ellipse];\n  \"Endpoint\" -> \"AWS APIs\" [label=\"PrivateLink\", style=dashed];\n")
	rule := regexp.MustCompile(`^(\S+) (ingress|egress) tcp/(\S+) (from|to) (\S+)$`)
	edges := map[string][]string{}
	for _, f := range flowsOf(t, "prod") {
		m := rule.FindStringSubmatch(f)
		if !assert.NotNil(t, m, "cannot draw rule %q", f) {
			continue
		}
		name := func(s string) string {
			switch {
			case s == "0.0.0.0/0" && m[2] == "ingress":
				return "internet"
			case s == "0.0.0.0/0":
				return "AWS APIs"
			}
			return strings.TrimSuffix(s, "SecurityGroup")
		}
		var from, to string
		if m[2] == "ingress" {
			from, to = name(m[5]), name(m[1])
		} else if m[5] == "0.0.0.0/0" {
			from, to = name(m[1]), name(m[5])
		} else if strings.HasPrefix(m[5], "pl-") {
			from, to = name(m[1]), "S3 (gateway endpoint)"
		} else {
			continue // the matching ingress rule draws this flow
		}
		key := fmt.Sprintf("  %q -> %q", from, to)
		edges[key] = append(edges[key], m[3])
	}
	for _, k := range sortedKeys(edges) {
		sort.Strings(edges[k])
		fmt.Fprintf(&b, "%s [label=%q];\n", k, strings.Join(edges[k], ", "))
	}
	b.WriteString("}\n")
	return b.String()
}

// TestGeneratedDocsAreCurrent checks the generated sections of the
// documents under docs/ and the diagram sources; `make update-golden`
// rewrites them.
func TestGeneratedDocsAreCurrent(t *testing.T) {
	for file, sections := range map[string]map[string]string{
		"docs/configuration.md": {"config": configTable(t), "outputs": outputsTable(), "capacity": capacityTable()},
		"docs/network.md":       {"cost": costTable()},
		"docs/governance.md":    {"controls": controlsTable(t)},
	} {
		doc, err := os.ReadFile(file)
		require.NoError(t, err)
		updated := doc
		for _, name := range sortedKeys(sections) {
			want := sections[name]
			got, err := readme.Section(updated, name)
			if !assert.NoError(t, err, file) {
				continue
			}
			if !*update && want != got {
				assert.Fail(t, "out of date", "%s section %q is out of date:\n%s\nrun `make update-golden`", file, name, linediff.Diff(got, want))
			}
			updated, err = readme.ReplaceSection(updated, name, want)
			require.NoError(t, err)
		}
		if *update && !bytes.Equal(updated, doc) {
			require.NoError(t, os.WriteFile(file, updated, 0o644))
		}
	}
	for path, want := range map[string]string{"docs/stacks.dot": stacksDot(), "docs/network.dot": networkDot(t)} {
		checkGolden(t, path, []byte(want), "is out of date", "make update-golden")
	}
}

// documents are the README and every document under docs/.
func documents(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range append([]string{"README.md"}, files...) {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		out[f] = string(raw)
	}
	return out
}

var (
	markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading      = regexp.MustCompile(`(?m)^#+ (.+)$`)
)

// anchor is the GitHub anchor of a heading.
func anchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	for _, r := range h {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune('-')
		case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocumentLinksResolve follows every relative link of the README and
// the documents under docs/: the file must exist and, where the link names
// a heading (#anchor), the heading too.
func TestDocumentLinksResolve(t *testing.T) {
	docs := documents(t)
	checked := 0
	for _, file := range sortedKeys(docs) {
		for _, m := range markdownLink.FindAllStringSubmatch(docs[file], -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			path, frag, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(resolved); !assert.NoError(t, err, "%s links to %s, which does not exist", file, target) || frag == "" {
				continue
			}
			raw, err := os.ReadFile(resolved)
			require.NoError(t, err)
			var anchors []string
			for _, h := range heading.FindAllStringSubmatch(string(raw), -1) {
				anchors = append(anchors, anchor(h[1]))
			}
			assert.Contains(t, anchors, frag, "%s links to %s, which has no heading #%s", file, path, frag)
		}
	}
	assert.GreaterOrEqual(t, checked, 10, "relative links found")
}

// cliOptions reads the pinned CDK CLI's own option registry
// (cli-type-registry.json, what its argument parser is generated from):
// per command, the long option names and aliases it accepts, global
// options included, each with whether it takes a value.
func cliOptions(t *testing.T) map[string]map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("node_modules", "aws-cdk", "lib", "cli", "cli-type-registry.json"))
	require.NoError(t, err, "run `npm ci` first (make test does)")
	type option struct {
		Alias any    `json:"alias"`
		Type  string `json:"type"`
	}
	var reg struct {
		GlobalOptions map[string]option `json:"globalOptions"`
		Commands      map[string]struct {
			Aliases []string          `json:"aliases"`
			Options map[string]option `json:"options"`
		} `json:"commands"`
	}
	require.NoError(t, json.Unmarshal(raw, &reg))
	add := func(into map[string]bool, opts map[string]option) {
		for name, o := range opts {
			value := o.Type != "boolean"
			into["--"+name] = value
			for _, a := range iampolicy.Strings(o.Alias) {
				if len(a) == 1 {
					into["-"+a] = value
				} else {
					into["--"+a] = value
				}
			}
		}
	}
	out := map[string]map[string]bool{}
	for name, c := range reg.Commands {
		opts := map[string]bool{"--help": false, "-h": false, "--version": false}
		add(opts, reg.GlobalOptions)
		add(opts, c.Options)
		for _, n := range append([]string{name}, c.Aliases...) {
			out[n] = opts
		}
	}
	return out
}

var (
	codeSpan    = regexp.MustCompile("(?s)```[a-z]*\n(.*?)```|`([^`]+)`")
	makeCommand = regexp.MustCompile(`\bmake\s+(?:-s\s+)?([a-z][a-z-]*)`)
	cdkCommand  = regexp.MustCompile(`\bcdk\s+([a-z][a-z-]*)((?:[ \t]+[^ \t\n|;&)]+)*)`)
	makeTarget  = regexp.MustCompile(`(?m)^([a-z][a-z-]*):`)
)

// TestReadmeCommandsAreReal keeps the README honest: every make target it
// names exists in the Makefile, every cdk command line in it and in the
// Makefile uses a command and options the pinned CLI accepts, and a
// `cdk deploy` of named stacks carries --exclusively (without it the CLI
// deploys every stack they depend on too).
func TestReadmeCommandsAreReal(t *testing.T) {
	makefile, err := os.ReadFile("Makefile")
	require.NoError(t, err)
	targets := map[string]bool{}
	for _, m := range makeTarget.FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}
	var code []string
	var text strings.Builder
	docs := documents(t)
	for _, name := range sortedKeys(docs) {
		text.WriteString(docs[name])
	}
	for _, m := range codeSpan.FindAllStringSubmatch(text.String(), -1) {
		// An inline code span may wrap; its words are one command line.
		code = append(code, m[1]+strings.Join(strings.Fields(m[2]), " "))
	}
	checkedMake, checkedCDK := 0, 0
	for _, c := range code {
		for _, m := range makeCommand.FindAllStringSubmatch(c, -1) {
			checkedMake++
			assert.True(t, targets[m[1]], "README names `make %s`, which the Makefile does not define", m[1])
		}
	}
	opts := cliOptions(t)
	var recipes []string
	for _, line := range strings.Split(string(makefile), "\n") {
		if strings.HasPrefix(line, "\t") && !strings.HasPrefix(strings.TrimSpace(line), "@#") {
			recipes = append(recipes, line)
		}
	}
	for source, texts := range map[string][]string{"README.md and docs/": code, "Makefile": recipes} {
		for _, c := range texts {
			for _, m := range cdkCommand.FindAllStringSubmatch(c, -1) {
				checkedCDK++
				accepted, ok := opts[m[1]]
				if !assert.True(t, ok, "%s: `cdk %s`: the pinned CLI has no command %s", source, m[1]+m[2], m[1]) {
					continue
				}
				var stacks []string
				words := strings.Fields(m[2])
				for i, word := range words {
					if !strings.HasPrefix(word, "-") {
						// A word after an option that takes a value is that value.
						if i == 0 || !accepted[words[i-1]] || strings.Contains(words[i-1], "=") {
							stacks = append(stacks, word)
						}
						continue
					}
					name, _, _ := strings.Cut(word, "=")
					negated := "--" + strings.TrimPrefix(name, "--no-")
					_, known := accepted[name]
					_, knownNegated := accepted[negated]
					assert.True(t, known || knownNegated, "%s: `cdk %s`: the pinned CLI's %s command has no option %s", source, m[1]+m[2], m[1], name)
				}
				if m[1] == "deploy" && len(stacks) > 0 {
					assert.True(t, slices.Contains(words, "--exclusively") || slices.Contains(words, "-e"),
						"%s: `cdk %s` names stacks %v without --exclusively, so it deploys every stack they depend on too", source, m[1]+m[2], stacks)
				}
			}
		}
	}
	assert.GreaterOrEqual(t, checkedMake, 10, "make commands found in the README")
	assert.GreaterOrEqual(t, checkedCDK, 8, "cdk command lines found in the README and the Makefile")
}
