package guard

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/example/platform/internal/cfn"
)

// app is two stacks: Network exports a security group that App imports.
func app() map[string]cfn.Template {
	return map[string]cfn.Template{
		"Network": {
			"Resources": map[string]any{
				"GroupAAAAAAAA": map[string]any{"Type": "AWS::EC2::SecurityGroup", "Properties": map[string]any{"GroupDescription": "app"}},
				"Db":            map[string]any{"Type": "AWS::RDS::DBInstance", "Properties": map[string]any{"DBName": "app"}},
			},
			"Outputs": map[string]any{"ExportGroup": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"GroupAAAAAAAA", "GroupId"}}, "Export": map[string]any{"Name": "net:ExportGroup"}}},
		},
		"App": {"Resources": map[string]any{
			"Task": map[string]any{"Type": "AWS::ECS::TaskDefinition", "Properties": map[string]any{"SecurityGroups": []any{map[string]any{"Fn::ImportValue": "net:ExportGroup"}}}},
		}},
	}
}

func identityOf(id string) Identity {
	return Identity{StackName: "web-" + id, Account: "111111111111", Region: "eu-west-1"}
}

// write puts templates and their identities into dir as stacks of one side.
func write(t *testing.T, dir string, templates map[string]cfn.Template, ident func(string) Identity) []Stack {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	ids := map[string]Identity{}
	var out []Stack
	for _, id := range sortedKeys(templates) {
		raw, err := json.Marshal(templates[id])
		require.NoError(t, err)
		file := filepath.Join(dir, id+".template.json")
		require.NoError(t, os.WriteFile(file, raw, 0o644))
		ids[id] = ident(id)
		out = append(out, Stack{ID: id, Identity: ids[id], File: file, Template: templates[id]})
	}
	raw, err := json.Marshal(ids)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks.json"), raw, 0o644))
	return out
}

func TestSameStackIsNameAccountAndRegion(t *testing.T) {
	a := Identity{StackName: "web-db", Account: "111111111111", Region: "eu-west-1"}
	assert.True(t, SameStack(a, a, nil))
	assert.False(t, SameStack(a, Identity{StackName: "web-db2", Account: "111111111111", Region: "eu-west-1"}, nil), "renamed")
	assert.False(t, SameStack(a, Identity{StackName: "web-db", Account: "111111111111", Region: "us-east-1"}, nil), "moved to another region")
	assert.False(t, SameStack(a, Identity{StackName: "web-db", Account: "222222222222", Region: "eu-west-1"}, nil), "moved to another account")
	assert.True(t, SameStack(a, Identity{StackName: "web-db", Account: "222222222222", Region: "eu-west-1"}, []string{"111111111111"}), "a placeholder account configured")
}

func TestReviewedReadsTheWorkingTreeOrARevision(t *testing.T) {
	repo := t.TempDir()
	write(t, filepath.Join(repo, "testdata", "dev"), app(), identityOf)
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "base")
	require.NoError(t, os.Remove(filepath.Join(repo, "testdata", "dev", "App.template.json")))

	working, err := Reviewed(Source{Repo: repo}, filepath.Join("testdata", "dev"), nil)
	require.NoError(t, err)
	require.Len(t, working, 2)
	assert.Equal(t, "App", working[0].ID)
	assert.Empty(t, working[0].File, "removed from the working tree")
	assert.Equal(t, identityOf("Network"), working[1].Identity)

	base, err := Reviewed(Source{Repo: repo, Rev: "HEAD", Scratch: t.TempDir()}, filepath.Join("testdata", "dev"), nil)
	require.NoError(t, err)
	assert.NotEmpty(t, base[0].File, "still in the base revision")
	assert.Equal(t, "Task", cfn.IDs(base[0].Template, "AWS::ECS::TaskDefinition")[0])

	fallback, err := Reviewed(Source{Repo: t.TempDir()}, ".", map[string]Identity{"App": identityOf("App")})
	require.NoError(t, err)
	assert.Equal(t, []Stack{{ID: "App", Identity: identityOf("App")}}, fallback, "without stacks.json, the fallback identities")
}

func TestSharedAndRemovedExports(t *testing.T) {
	reviewed := app()
	assert.Equal(t, map[string][]string{"Network/GroupAAAAAAAA": {"App"}}, SharedResources(reviewed))
	deployed := app()
	delete(deployed["Network"], "Outputs")
	assert.Equal(t, []RemovedExport{{Env: "dev", Producer: "Network", Export: "net:ExportGroup", Consumers: []string{"App"}}},
		RemovedExports("dev", reviewed, []Stack{{ID: "Network", Template: deployed["Network"]}, {ID: "App", Template: deployed["App"]}}))
	assert.Empty(t, RemovedExports("dev", reviewed, []Stack{{ID: "Network", Template: reviewed["Network"]}}))
}

func TestReadAllowListChecksEveryEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "allow.json")
	require.NoError(t, os.WriteFile(path, []byte(`[{"env": "prod", "stack": "Database", "logicalId": "Db", "change": "replace", "reason": "short"}]`), 0o644))
	_, err := ReadAllowList(path)
	assert.ErrorContains(t, err, "entry 0 (prod/Database Db): a replacement names the properties that cause it")
	assert.ErrorContains(t, err, "entry 0 (prod/Database Db): needs a reason of a sentence")
}

// engine runs the repository's diff engine with its pinned Node; without
// npm ci it skips, except under CI=true.
func engine(t *testing.T) Engine {
	t.Helper()
	node, err := filepath.Abs(filepath.Join("..", "..", "node_modules", ".bin", "node"))
	require.NoError(t, err)
	if _, err := os.Stat(node); err != nil {
		if os.Getenv("CI") == "true" {
			require.NoError(t, err, "run npm ci first (make test does)")
		}
		t.Skip("node_modules is not installed; run npm ci (make test does)")
	}
	return Engine{Node: node, Script: filepath.Join("..", "..", "tools", "cfndiff.js"), Scratch: t.TempDir()}
}

// TestReviewJudgesWhatTheEngineFinds runs the whole path, identity pairing,
// the CDK's diff engine and the judgement, over a change that replaces a
// security group another stack imports (not a guarded type, so a summary
// that only marked guarded types missed it) and one that renames a stack.
func TestReviewJudgesWhatTheEngineFinds(t *testing.T) {
	e := engine(t)
	dir := t.TempDir()
	reviewed := write(t, filepath.Join(dir, "reviewed"), app(), identityOf)
	changed := app()
	cfn.Props(cfn.Object(cfn.Object(changed["Network"]["Resources"])["GroupAAAAAAAA"]))["GroupDescription"] = "renamed"
	deployed := write(t, filepath.Join(dir, "deployed"), changed, identityOf)
	movedApp := write(t, filepath.Join(dir, "moved"), app(), func(id string) Identity {
		if id == "App" {
			return Identity{StackName: "web-app2", Account: "111111111111", Region: "eu-west-1"}
		}
		return identityOf(id)
	})
	r, err := e.Review([]Comparison{{Label: "sg", Reviewed: reviewed, Deployed: deployed}, {Label: "move", Reviewed: reviewed, Deployed: movedApp}},
		Options{Guarded: guarded, Text: true})
	require.NoError(t, err)
	require.Len(t, r.Verdict.Violations, 2)
	assert.Contains(t, r.Verdict.Violations[1], "sg/Network: replace AWS::EC2::SecurityGroup GroupAAAAAAAA (changed: GroupDescription): App imports it, so CloudFormation will refuse the deploy")
	assert.Contains(t, r.Verdict.Violations[0], "move/App: stack web-App (account 111111111111, eu-west-1) is renamed or moved to web-app2 (account 111111111111, eu-west-1): cdk deploy creates that stack anew, empty, and never deletes the old one, which keeps its resources and data; restore the stack's name, account and region (1 resources)")
	names := map[string]bool{}
	for _, d := range r.Diffs {
		names[d.Name] = !d.Empty
	}
	assert.Equal(t, map[string]bool{"sg/App": false, "sg/Network": true, "move/Network": false, "move/App (new)": true}, names, "a stack that leaves the app is not diffed: a deploy deletes nothing of it")
	require.Len(t, r.Gone, 1)
	assert.Equal(t, "App", r.Gone[0].Stack)
}

// TestReviewFindsRenamesWeakeningsAndOpenedPorts: a construct rename is a
// removal and an addition of the same type; turning off deletion
// protection, dropping a web ACL and opening a port to the internet are
// weakenings; and a type dropped from the base's guarded list is one too.
func TestReviewFindsRenamesWeakeningsAndOpenedPorts(t *testing.T) {
	e := engine(t)
	dir := t.TempDir()
	before := app()
	res := cfn.Object(before["Network"]["Resources"])
	cfn.Props(cfn.Object(res["Db"]))["DeletionProtection"] = true
	res["Acl"] = map[string]any{"Type": "AWS::WAFv2::WebACL", "Properties": map[string]any{"Scope": "REGIONAL"}}
	reviewed := write(t, filepath.Join(dir, "reviewed"), before, identityOf)
	after := app()
	res = cfn.Object(after["Network"]["Resources"])
	res["Database"] = res["Db"]
	delete(res, "Db")
	cfn.Props(cfn.Object(res["GroupAAAAAAAA"]))["SecurityGroupEgress"] = []any{map[string]any{"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443.0, "ToPort": 443.0}}
	deployed := write(t, filepath.Join(dir, "deployed"), after, identityOf)
	protectedDb := app()
	cfn.Props(cfn.Object(cfn.Object(protectedDb["Network"]["Resources"])["Db"]))["DeletionProtection"] = true
	withProtection := write(t, filepath.Join(dir, "protected"), protectedDb, identityOf)
	// One review, one run of the diff engine, for both comparisons.
	r, err := e.Review([]Comparison{
		{Label: "dev", Reviewed: reviewed, Deployed: deployed},
		{Label: "prot", Reviewed: withProtection, Deployed: write(t, filepath.Join(dir, "plain"), app(), identityOf)},
	}, Options{Guarded: guarded, BaseGuarded: map[string]string{"AWS::RDS::DBInstance": "it holds the database", "AWS::Logs::LogGroup": "it holds logs"}})
	require.NoError(t, err)
	// The base's guarded types apply to the whole review, so each
	// comparison reports the dropped type; prot's is not what it tests.
	var dev, prot []string
	for _, v := range r.Verdict.Violations {
		switch {
		case strings.HasPrefix(v, "dev/"):
			dev = append(dev, v)
		case strings.HasPrefix(v, "prot/") && !strings.HasPrefix(v, "prot/(guard): "):
			prot = append(prot, v)
		}
	}
	all := strings.Join(dev, "\n")
	assert.Contains(t, all, "dev/Network: destroy AWS::RDS::DBInstance Db: it holds the database; the construct was renamed (the change adds Database of the same type)")
	assert.Contains(t, all, "dev/Network: weaken AWS::WAFv2::WebACL Acl: web ACL removed: the load balancer loses its firewall (AWS WAF)")
	assert.Contains(t, all, "dev/Network: weaken AWS::EC2::SecurityGroup GroupAAAAAAAA: egress tcp/443 to 0.0.0.0/0 added: a port opens to the whole internet")
	assert.Contains(t, all, "dev/(guard): weaken guarded type AWS::Logs::LogGroup: guarded type removed from tools/guarded-types.json: the guard would no longer protect it: it holds logs")
	assert.Len(t, dev, 4, all)
	assert.Equal(t, []string{"prot/Network: weaken AWS::RDS::DBInstance Db: DeletionProtection true -> unset: the database can be deleted by accident; " + allowHint}, prot)
}

// TestReviewOfAnUnchangedAppNeedsNoEngine: equal templates are not sent to
// the diff engine, and a review where nothing changed runs no Node at all.
func TestReviewOfAnUnchangedAppNeedsNoEngine(t *testing.T) {
	reviewed := write(t, t.TempDir(), app(), identityOf)
	r, err := Engine{Node: "/nonexistent/node"}.Review([]Comparison{{Label: "same", Reviewed: reviewed, Deployed: reviewed}}, Options{Guarded: guarded})
	require.NoError(t, err)
	require.Len(t, r.Diffs, 2)
	for _, d := range r.Diffs {
		assert.True(t, d.Empty, d.Name)
	}
	assert.Empty(t, r.Verdict.Violations)
}
