package guard

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var guarded = map[string]string{
	"AWS::RDS::DBInstance":                      "it holds the database",
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "its DNS name is what users and DNS records point at",
}

func dbReplaced(props ...string) Finding {
	return Finding{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Type: "AWS::RDS::DBInstance", Impact: "WILL_REPLACE", Properties: props}
}

func TestGuardedTypesFailWithTheirReason(t *testing.T) {
	v := Judge(Input{Findings: []Finding{dbReplaced("DBName")}, Guarded: guarded})
	require.Len(t, v.Violations, 1)
	assert.Equal(t, "prod/Database: replace AWS::RDS::DBInstance DatabaseB269D8BB (changed: DBName): it holds the database; if intended, allow exactly this change in the allow-list", v.Violations[0])
}

func TestAnEntryForAnotherPropertyDoesNotMatch(t *testing.T) {
	entry := Entry{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Change: Replace, Properties: []string{"EngineVersion"}, Reason: "major upgrade to PostgreSQL 17"}
	v := Judge(Input{Findings: []Finding{dbReplaced("DBName")}, Guarded: guarded, Allow: []Entry{entry}})
	assert.Len(t, v.Violations, 1, "an entry for EngineVersion must not let a DBName change through")
	v = Judge(Input{Findings: []Finding{dbReplaced("DBName", "EngineVersion")}, Guarded: guarded, Allow: []Entry{entry}})
	assert.Len(t, v.Violations, 1, "nor a change of both")
	v = Judge(Input{Findings: []Finding{dbReplaced("EngineVersion")}, Guarded: guarded, Allow: []Entry{entry}})
	assert.Empty(t, v.Violations)
	require.Len(t, v.Allowed, 1)
	assert.Contains(t, v.Allowed[0], "allowed by the allow-list: major upgrade to PostgreSQL 17")
}

func TestAnEntryForAnotherChangeTypeDoesNotMatch(t *testing.T) {
	entry := Entry{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Change: Replace, Properties: []string{"DBName"}, Reason: "the database is renamed on purpose"}
	destroyed := Finding{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Type: "AWS::RDS::DBInstance", Impact: "WILL_DESTROY"}
	v := Judge(Input{Findings: []Finding{destroyed}, Guarded: guarded, Allow: []Entry{entry}})
	require.Len(t, v.Violations, 1)
	assert.Contains(t, v.Violations[0], "destroy AWS::RDS::DBInstance")
}

func TestStaleEntriesAreReportedWhenAsked(t *testing.T) {
	entry := Entry{Env: "dev", Stack: "Cache", LogicalID: "RedisFF642DF2", Change: Replace, Properties: []string{"EngineVersion"}, Reason: "an upgrade that already shipped"}
	v := Judge(Input{Guarded: guarded, Allow: []Entry{entry}, CheckStale: true})
	require.Len(t, v.Stale, 1)
	assert.Equal(t, "dev/Cache: replace RedisFF642DF2 (EngineVersion) matches no change; remove the entry", v.Stale[0])
	assert.Empty(t, Judge(Input{Guarded: guarded, Allow: []Entry{entry}}).Stale, "without a base there is no change to match")
}

func TestASharedResourceCannotBeReplaced(t *testing.T) {
	vpc := Finding{Env: "dev", Stack: "Network", LogicalID: "Vpc8378EB38", Type: "AWS::EC2::VPC", Impact: "WILL_REPLACE", Properties: []string{"CidrBlock"}}
	v := Judge(Input{Findings: []Finding{vpc}, Guarded: guarded, Shared: map[string][]string{"dev/Network/Vpc8378EB38": {"Cache", "Database"}}})
	require.Len(t, v.Violations, 1)
	assert.Contains(t, v.Violations[0], "dev/Network: replace AWS::EC2::VPC Vpc8378EB38 (changed: CidrBlock): Cache, Database imports it, so CloudFormation will refuse the deploy")
	assert.Contains(t, v.Violations[0], "two steps")
	both := Judge(Input{Findings: []Finding{dbReplaced("DBName")}, Guarded: guarded, Shared: map[string][]string{"prod/Database/DatabaseB269D8BB": {"Monitoring"}}})
	require.Len(t, both.Violations, 1)
	assert.Contains(t, both.Violations[0], "it holds the database; and Monitoring imports it")
}

func TestUnguardedUnsharedChangesPassAndSayWhy(t *testing.T) {
	td := Finding{Env: "dev", Stack: "Service", LogicalID: "TaskDefinitionB36D86D9", Type: "AWS::ECS::TaskDefinition", Impact: "WILL_REPLACE", Properties: []string{"ContainerDefinitions"}}
	v := Judge(Input{Findings: []Finding{td}, Guarded: guarded})
	assert.Empty(t, v.Violations)
	require.Len(t, v.Allowed, 1)
	assert.Contains(t, v.Allowed[0], "holds no data or outside identity and that no other stack imports")
}

func TestAGoneStackNamesWhy(t *testing.T) {
	f := Finding{Env: "dev", Stack: "Registry", LogicalID: "Repository22E53BBD", Type: "AWS::ECR::Repository", Impact: "WILL_DESTROY",
		StackGone: "stack webapp-dev-registry is renamed to webapp-dev-ecr"}
	v := Judge(Input{Findings: []Finding{f}, Guarded: map[string]string{"AWS::ECR::Repository": "its URL is where images are pushed"}})
	require.Len(t, v.Violations, 1)
	assert.True(t, strings.HasPrefix(v.Violations[0], "dev/Registry: destroy AWS::ECR::Repository Repository22E53BBD because stack webapp-dev-registry is renamed to webapp-dev-ecr: its URL"), v.Violations[0])
}

func TestARemovedExportThatIsImportedFails(t *testing.T) {
	v := Judge(Input{Guarded: guarded, RemovedExports: []RemovedExport{{Env: "dev", Producer: "Registry", Export: "webapp-dev-registry:ExportsOutputRefRepository", Consumers: []string{"Service"}}}})
	require.Len(t, v.Violations, 1)
	assert.Contains(t, v.Violations[0], "dev/Registry: export webapp-dev-registry:ExportsOutputRefRepository is removed while Service import it")
	assert.Contains(t, v.Violations[0], "ExportValue")
}

func TestEntryProblems(t *testing.T) {
	assert.Empty(t, Entry{Env: "dev", Stack: "Cache", LogicalID: "X", Change: Replace, Properties: []string{"P"}, Reason: "a reason that is a sentence"}.Problems())
	assert.Len(t, Entry{Change: "rename", Reason: "short"}.Problems(), 3)
	assert.Contains(t, Entry{Env: "d", Stack: "s", LogicalID: "x", Change: Replace, Reason: "a reason that is a sentence"}.Problems(), "a replacement names the properties that cause it")
}

func TestChangeOf(t *testing.T) {
	assert.Equal(t, Replace, changeOf("MAY_REPLACE"))
	assert.Equal(t, Orphan, changeOf("WILL_ORPHAN"))
	assert.Equal(t, Destroy, changeOf("WILL_DESTROY"))
}
