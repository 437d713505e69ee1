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

// TestAnEntryTheBaseHadIsDoneNotStale: after the pull request with an entry
// merges, its change is in the base and the entry matches nothing; that
// must not fail the next, unrelated pull request.
func TestAnEntryTheBaseHadIsDoneNotStale(t *testing.T) {
	entry := Entry{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Change: Replace, Properties: []string{"EngineVersion"}, Reason: "the major upgrade to PostgreSQL 17"}
	v := Judge(Input{Guarded: guarded, Allow: []Entry{entry}, BaseAllow: []Entry{entry}, CheckStale: true})
	assert.Empty(t, v.Stale)
	assert.Equal(t, []string{"prod/Database: replace DatabaseB269D8BB (EngineVersion): the change it allows has shipped; remove the entry"}, v.Done)
}

func TestWeakeningsFailUnlessAllowed(t *testing.T) {
	w := Weakening{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Type: "AWS::RDS::DBInstance", What: "DeletionProtection", Detail: "true -> false", Why: "the database can be deleted by accident"}
	v := Judge(Input{Weakenings: []Weakening{w}, Guarded: guarded})
	require.Len(t, v.Violations, 1)
	assert.Equal(t, "prod/Database: weaken AWS::RDS::DBInstance DatabaseB269D8BB: DeletionProtection true -> false: the database can be deleted by accident; "+allowHint, v.Violations[0])
	entry := Entry{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Change: Weaken, Properties: []string{"DeletionProtection"}, Reason: "the database is retired next week, snapshot taken"}
	v = Judge(Input{Weakenings: []Weakening{w}, Guarded: guarded, Allow: []Entry{entry}})
	assert.Empty(t, v.Violations)
	assert.Contains(t, v.Allowed[0], "allowed by the allow-list: the database is retired")
	other := entry
	other.Properties = []string{"MultiAZ"}
	assert.Len(t, Judge(Input{Weakenings: []Weakening{w}, Guarded: guarded, Allow: []Entry{other}}).Violations, 1, "an entry for another protection")
}

func TestAMovedEnvironmentIsOneHeadline(t *testing.T) {
	from := func(stack string) Identity {
		return Identity{"webapp-prod-" + stack, "222222222222", "eu-west-1", true}
	}
	to := func(stack string) *Identity {
		return &Identity{"webapp-prod-" + stack, "222222222222", "us-east-1", true}
	}
	var gone []StackGone
	for _, stack := range []string{"Database", "Network"} {
		gone = append(gone, StackGone{Env: "prod", Stack: stack, From: from(stack), To: to(stack), Resources: 3, Holds: map[string]int{"AWS::RDS::DBInstance": 1}})
	}
	v := Judge(Input{Gone: gone, Reviewed: map[string]int{"prod": 2}, Guarded: guarded})
	require.Len(t, v.Violations, 1)
	assert.True(t, strings.HasPrefix(v.Violations[0], "prod/(environment): moves from 222222222222/eu-west-1 to 222222222222/us-east-1: every stack would be created anew, empty; cdk deploy never deletes a stack that left the app, so the old stacks and their data stay"), v.Violations[0])
	assert.Contains(t, v.Violations[0], "Database webapp-prod-Database -> webapp-prod-Database, holding 1 AWS::RDS::DBInstance")
	assert.NotContains(t, v.Violations[0], "refuse the deploy")

	one := Judge(Input{Gone: gone[:1], Reviewed: map[string]int{"prod": 2}, Guarded: guarded})
	require.Len(t, one.Violations, 1)
	assert.Contains(t, one.Violations[0], "prod/Database: stack webapp-prod-Database (account 222222222222, eu-west-1) is renamed or moved to webapp-prod-Database (account 222222222222, us-east-1): cdk deploy creates that stack anew, empty, and never deletes the old one, which keeps its resources and data")
	removed := gone[0]
	removed.To = nil
	assert.Contains(t, Judge(Input{Gone: []StackGone{removed}, Reviewed: map[string]int{"prod": 2}}).Violations[0], "is removed from the app: cdk deploy never deletes it")
	allow := Entry{Env: "prod", Stack: "(environment)", LogicalID: "(all stacks)", Change: Move, Reason: "the platform moves to us-east-1, data migrated by hand"}
	assert.Empty(t, Judge(Input{Gone: gone, Reviewed: map[string]int{"prod": 2}, Allow: []Entry{allow}}).Violations)
}

func TestARenamedConstructGetsTheRightAdvice(t *testing.T) {
	f := Finding{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Type: "AWS::RDS::DBInstance", Impact: "WILL_ORPHAN", RenamedTo: "Postgres9DC8BB04"}
	v := Judge(Input{Findings: []Finding{f}, Guarded: guarded, Shared: map[string][]string{"prod/Database/DatabaseB269D8BB": {"Monitoring"}}})
	require.Len(t, v.Violations, 1)
	assert.Contains(t, v.Violations[0], "the construct was renamed (the change adds Postgres9DC8BB04 of the same type): restore its construct ID, or pin the logical ID with OverrideLogicalId")
	assert.NotContains(t, v.Violations[0], "under a new construct ID")
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

func TestARemovedExportThatIsImportedFails(t *testing.T) {
	v := Judge(Input{Guarded: guarded, RemovedExports: []RemovedExport{{Env: "dev", Producer: "Registry", Export: "webapp-dev-registry:ExportsOutputRefRepository", Consumers: []string{"Service"}}}})
	require.Len(t, v.Violations, 1)
	assert.Contains(t, v.Violations[0], "dev/Registry: export webapp-dev-registry:ExportsOutputRefRepository is removed while Service import it")
	assert.Contains(t, v.Violations[0], "ExportValue")
}

func TestEntryProblems(t *testing.T) {
	assert.Empty(t, Entry{Env: "dev", Stack: "Cache", LogicalID: "X", Change: Replace, Properties: []string{"P"}, Reason: "a reason that is a sentence"}.Problems())
	assert.Len(t, Entry{Change: "rename", Reason: "short"}.Problems(), 3)
	assert.Contains(t, Entry{Env: "d", Stack: "s", LogicalID: "x", Change: Weaken, Reason: "a reason that is a sentence"}.Problems(), "a weakening names the protections it gives up")
	assert.Contains(t, Entry{Env: "d", Stack: "s", LogicalID: "x", Change: Replace, Reason: "a reason that is a sentence"}.Problems(), "a replacement names the properties that cause it")
}

func TestChangeOf(t *testing.T) {
	assert.Equal(t, Replace, changeOf("MAY_REPLACE"))
	assert.Equal(t, Orphan, changeOf("WILL_ORPHAN"))
	assert.Equal(t, Destroy, changeOf("WILL_DESTROY"))
}

// TestAMajorUpgradeIsJudgedAsItHappens: the diff engine reports the
// instance as possibly replaced through DBParameterGroupName, which
// CloudFormation updates in place, and the parameter group as replaced
// through Family, which creates the new group first; neither loses data.
func TestAMajorUpgradeIsJudgedAsItHappens(t *testing.T) {
	db := Finding{Env: "prod", Stack: "Database", LogicalID: "DatabaseB269D8BB", Type: "AWS::RDS::DBInstance", Impact: "MAY_REPLACE", Properties: []string{"DBParameterGroupName"}}
	pg := Finding{Env: "prod", Stack: "Database", LogicalID: "ParameterGroup5E32DECB", Type: "AWS::RDS::DBParameterGroup", Impact: "WILL_REPLACE", Properties: []string{"Family"}}
	types := map[string]string{"AWS::RDS::DBInstance": "it holds the database", "AWS::RDS::DBParameterGroup": "its parameters"}
	v := Judge(Input{Findings: []Finding{db, pg}, Guarded: types})
	assert.Empty(t, v.Violations)
	assert.Contains(t, v.Allowed[0], "replace AWS::RDS::DBInstance DatabaseB269D8BB (changed: DBParameterGroupName): updates in place")
	assert.Contains(t, v.Allowed[1], "replace AWS::RDS::DBParameterGroup ParameterGroup5E32DECB (changed: Family): a major version upgrade")
	certain := db
	certain.Impact = "WILL_REPLACE"
	assert.Len(t, Judge(Input{Findings: []Finding{certain}, Guarded: types}).Violations, 1, "a certain replacement stays one")
	db.Properties = append(db.Properties, "DBName")
	assert.Len(t, Judge(Input{Findings: []Finding{db}, Guarded: types}).Violations, 1, "with another cause, still refused")
}
