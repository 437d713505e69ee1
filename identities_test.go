package main

// The application's own identities, as readiness rules: the tasks hold only
// the application user's credentials, a rotation leaves what they hold
// valid, and the custom resource that creates the user can reach the
// database and the secrets it reads.

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/internal/iampolicy"
	"github.com/example/platform/lib"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// identityRules are appended to readinessRules.
var identityRules = []readinessRule{
	{"no task receives the database master secret, and no task role may read it",
		"https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html (the master user's privileges); " +
			"https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html (alternating users: \"the superuser secret\")",
		tasksNeverHoldTheMasterSecret},
	{"every rotated secret a task holds rotates by alternating users, so the redeploy after it finds the old tasks working",
		"https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html#rotating-secrets-two-users; " +
			"https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_available-rotation-templates.html#sar-template-postgre-multiuser; " +
			"https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html (alarms roll a deployment back)",
		rotatedSecretsAlternateUsers},
	{"every database-user custom resource reaches its database (subnets, security groups) and Secrets Manager, and may read its secrets",
		"https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html; " +
			"https://docs.aws.amazon.com/secretsmanager/latest/userguide/vpc-endpoint-overview.html; " +
			"https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html (kms:Decrypt through Secrets Manager)",
		databaseUsersCanBeCreated},
	{"every Redis group authenticates by RBAC: its default user is off, and its other users run the data commands, never the administrative ones, with a password a task reads",
		"https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html (a user named default must be included; replace it with one that is not enabled; access strings); " +
			"https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth.html (AUTH has been superseded by RBAC); " +
			"https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/ (ACL rules and categories)",
		redisGroupsUseRBAC},
}

func init() { readinessRules = append(readinessRules, identityRules...) }

// secretOf follows v (in stack) to the secret it names, through a
// SecretTargetAttachment (whose Ref is the secret's ARN).
func (w world) secretOf(stack string, v any) (cfn.Ref, bool) {
	r, ok := w.Resolve(stack, v)
	if !ok {
		return r, false
	}
	if w.Type(r) == "AWS::SecretsManager::SecretTargetAttachment" {
		return w.secretOf(r.Stack, w.Props(r)["SecretId"])
	}
	return r, w.Type(r) == "AWS::SecretsManager::Secret"
}

// refsIn lists every resource v references anywhere inside it (a Ref, a
// GetAtt or an import in a Fn::Join, for example).
func (w world) refsIn(stack string, v any) []cfn.Ref {
	if r, ok := w.Resolve(stack, v); ok {
		return []cfn.Ref{r}
	}
	var refs []cfn.Ref
	switch v := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(v) {
			refs = append(refs, w.refsIn(stack, v[k])...)
		}
	case []any:
		for _, e := range v {
			refs = append(refs, w.refsIn(stack, e)...)
		}
	}
	return refs
}

// masterSecrets are the secrets that hold a database's master password (the
// instance's MasterUserPassword resolves them) or that a rotation uses as
// its superuser secret, each with why.
func (w world) masterSecrets() map[cfn.Ref]string {
	masters := map[cfn.Ref]string{}
	w.Each("AWS::RDS::DBInstance", func(db cfn.Ref, props, _ map[string]any) {
		for _, r := range w.refsIn(db.Stack, props["MasterUserPassword"]) {
			if s, ok := w.secretOf(r.Stack, map[string]any{"Ref": r.ID}); ok {
				masters[s] = fmt.Sprintf("the master password of %s", db)
			}
		}
	})
	w.Each("AWS::SecretsManager::RotationSchedule", func(rs cfn.Ref, props, _ map[string]any) {
		if s, ok := w.secretOf(rs.Stack, cfn.Object(props["HostedRotationLambda"])["MasterSecretArn"]); ok {
			masters[s] = fmt.Sprintf("the superuser secret of %s", rs)
		}
	})
	return masters
}

// coversSecret reports whether a policy's Resource value, read in stack,
// covers secret s: "*", any ARN (or ARN joined from parts) with a wildcard,
// counted as covering because the rule would rather fail than miss one, or
// a reference to s or to an attachment of it.
func (w world) coversSecret(stack string, s cfn.Ref) func(v any) bool {
	return func(v any) bool {
		for _, e := range cfn.ListOr(v) {
			if _, ok := w.Resolve(stack, e); !ok && strings.ContainsAny(cfn.Flatten(e), "*?") {
				return true
			}
			if got, ok := w.secretOf(stack, e); ok && got == s {
				return true
			}
		}
		return false
	}
}

// containerSecrets lists, per task definition, the secrets its containers
// read.
func (w world) containerSecrets() map[cfn.Ref][]cfn.Ref {
	read := map[cfn.Ref][]cfn.Ref{}
	w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			for _, s := range cfn.List(cfn.Object(c)["Secrets"]) {
				if sec, ok := w.secretOf(td.Stack, secretArnOf(cfn.Object(s)["ValueFrom"])); ok && !slices.Contains(read[td], sec) {
					read[td] = append(read[td], sec)
				}
			}
		}
	})
	return read
}

// tasksNeverHoldTheMasterSecret: the master user may create roles and
// databases; the application needs neither, and single-user rotation of the
// master password breaks every task that logs in with it.
func tasksNeverHoldTheMasterSecret(t checkT, w world) int {
	masters := w.masterSecrets()
	if w.Each("AWS::RDS::DBInstance", func(cfn.Ref, map[string]any, map[string]any) {}) > 0 {
		assert.NotEmpty(t, masters, "no database's master password resolves to a secret of this app")
	}
	n := 0
	w.Each("AWS::ECS::TaskDefinition", func(td cfn.Ref, props, _ map[string]any) {
		for _, c := range cfn.List(props["ContainerDefinitions"]) {
			for _, s := range cfn.List(cfn.Object(c)["Secrets"]) {
				from := secretArnOf(cfn.Object(s)["ValueFrom"])
				_, ok := w.secretOf(td.Stack, from)
				assert.True(t, ok, "%s: secret %v comes from %s, which is no secret of this app: the rule cannot tell whether it is a master secret", td, cfn.Object(s)["Name"], cfn.JSON(from))
			}
		}
		for _, key := range []string{"ExecutionRoleArn", "TaskRoleArn"} {
			if role, ok := w.Resolve(td.Stack, props[key]); ok {
				assert.Empty(t, w.Props(role)["ManagedPolicyArns"], "%s: %s %s has managed policies, which this rule cannot read (one such as SecretsManagerReadWrite reads every secret)", td, key, role)
			}
		}
	})
	for td, secrets := range w.containerSecrets() {
		for _, s := range secrets {
			n++
			if why, ok := masters[s]; ok {
				assert.Fail(t, "a task receives the master secret", "%s reads %s, %s: give the application its own user", td, s, why)
			}
		}
		for _, key := range []string{"ExecutionRoleArn", "TaskRoleArn"} {
			role, ok := w.Resolve(td.Stack, w.Props(td)[key])
			if !ok {
				continue
			}
			for m, why := range masters {
				may, _ := w.roleAllows(role, iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: w.coversSecret(role.Stack, m)})
				assert.False(t, may, "%s: %s %s may read %s, %s", td, key, role, m, why)
			}
		}
	}
	return n
}

// rotatedSecretsAlternateUsers: single-user rotation changes the password
// running tasks log in with at its setSecret step; the redeploy that
// follows the rotation then sees the old tasks fail, and a progressive
// rollout's alarms roll it back to the revision that holds the stale
// password. With alternating users the old tasks' user keeps its password
// until the rotation after next.
func rotatedSecretsAlternateUsers(t checkT, w world) int {
	readers := map[cfn.Ref][]cfn.Ref{}
	for td, secrets := range w.containerSecrets() {
		for _, s := range secrets {
			readers[s] = append(readers[s], td)
		}
	}
	strategies := map[cfn.Ref]string{}
	w.Each("AWS::ECS::Service", func(svc cfn.Ref, props, _ map[string]any) {
		if td, ok := w.Resolve(svc.Stack, props["TaskDefinition"]); ok {
			strategy, _ := cfn.Object(props["DeploymentConfiguration"])["Strategy"].(string)
			if strategy == "" {
				strategy = "ROLLING"
			}
			strategies[td] = strategy
		}
	})
	return w.Each("AWS::SecretsManager::RotationSchedule", func(rs cfn.Ref, props, _ map[string]any) {
		s, ok := w.secretOf(rs.Stack, props["SecretId"])
		if !assert.True(t, ok, "%s rotates %s, not a secret of this app", rs, cfn.JSON(props["SecretId"])) || len(readers[s]) == 0 {
			return
		}
		var how []string
		for _, td := range readers[s] {
			how = append(how, fmt.Sprintf("%s deployed %s", td, strategies[td]))
		}
		hosted, ok := props["HostedRotationLambda"].(map[string]any)
		if !assert.True(t, ok, "%s: tasks (%s) read %s, rotated by a function this rule cannot judge; use a hosted rotation", rs, strings.Join(how, ", "), s) {
			return
		}
		typ := fmt.Sprint(hosted["RotationType"])
		assert.True(t, strings.HasSuffix(typ, "MultiUser"),
			"%s rotates %s, which tasks hold (%s), with %s: the rotation changes the password they log in with, the redeploy after it sees them fail "+
				"and its alarms roll it back to the stale password; rotate by alternating users (a MultiUser rotation with a superuser secret)",
			rs, s, strings.Join(how, ", "), typ)
		if strings.HasSuffix(typ, "MultiUser") {
			_, ok := w.secretOf(rs.Stack, hosted["MasterSecretArn"])
			assert.True(t, ok, "%s: alternating users needs the superuser secret (MasterSecretArn) of this app", rs)
		}
	})
}

// databaseUsersCanBeCreated follows each Custom::DatabaseUser to the
// function that creates the user (through the provider framework's
// USER_ON_EVENT_FUNCTION_ARN) and checks what it needs at run time: the
// database's VPC, a security-group path to the database's port both ways,
// HTTPS to Secrets Manager (its endpoint where the VPC has one, else the
// internet through NAT), and the right to read both secrets and decrypt
// them through Secrets Manager.
func databaseUsersCanBeCreated(t checkT, w world) int {
	flows, err := cfn.Flows(w.Templates)
	assert.NoError(t, err)
	endpointGroups := []string{}
	w.Each("AWS::EC2::VPCEndpoint", func(ep cfn.Ref, props, _ map[string]any) {
		if strings.HasSuffix(fmt.Sprint(props["ServiceName"]), ".secretsmanager") {
			for _, g := range cfn.List(props["SecurityGroupIds"]) {
				if r, ok := w.Resolve(ep.Stack, g); ok {
					endpointGroups = append(endpointGroups, cfn.Unhashed(r.ID))
				}
			}
		}
	})
	return w.Each(lib.DatabaseUserType, func(cr cfn.Ref, props, _ map[string]any) {
		framework, ok := w.Resolve(cr.Stack, props["ServiceToken"])
		if !assert.True(t, ok, "%s: ServiceToken %s is not a function of this app", cr, cfn.JSON(props["ServiceToken"])) {
			return
		}
		handler, ok := w.Resolve(framework.Stack, cfn.Object(cfn.Object(w.Props(framework)["Environment"])["Variables"])["USER_ON_EVENT_FUNCTION_ARN"])
		if !assert.True(t, ok && w.Type(handler) == "AWS::Lambda::Function", "%s: the provider %s names no onEvent function of this app", cr, framework) {
			return
		}
		master, okM := w.secretOf(cr.Stack, props["MasterSecretArn"])
		app, okA := w.secretOf(cr.Stack, props["AppSecretArn"])
		if !assert.True(t, okM && okA, "%s: MasterSecretArn and AppSecretArn must be secrets of this app", cr) {
			return
		}
		// The database is the attachment's target.
		attachment, _ := w.Resolve(cr.Stack, props["MasterSecretArn"])
		db, ok := w.Resolve(attachment.Stack, w.Props(attachment)["TargetId"])
		if !assert.True(t, ok && w.Type(db) == "AWS::RDS::DBInstance", "%s: MasterSecretArn must be a secret attached to a database instance of this app", cr) {
			return
		}
		dbProps := w.Props(db)
		vpcOf := func(stack string, subnets []any) map[string]bool {
			vpcs := map[string]bool{}
			for _, s := range subnets {
				if r, ok := w.Resolve(stack, s); ok {
					vpcs[cfn.JSON(w.Props(r)["VpcId"])] = true
				}
			}
			return vpcs
		}
		vpc := cfn.Object(w.Props(handler)["VpcConfig"])
		group, _ := w.Resolve(db.Stack, dbProps["DBSubnetGroupName"])
		fnVPCs, dbVPCs := vpcOf(handler.Stack, cfn.List(vpc["SubnetIds"])), vpcOf(group.Stack, cfn.List(w.Props(group)["SubnetIds"]))
		assert.True(t, len(fnVPCs) == 1 && len(dbVPCs) == 1 && cfn.JSON(fnVPCs) == cfn.JSON(dbVPCs),
			"%s: function %s runs in %v, database %s in %v: it must run in the database's VPC", cr, handler, sortedKeys(fnVPCs), db, sortedKeys(dbVPCs))
		port := fmt.Sprint(dbProps["Port"])
		var fnGroups []string
		for _, g := range cfn.List(vpc["SecurityGroupIds"]) {
			if r, ok := w.Resolve(handler.Stack, g); ok {
				fnGroups = append(fnGroups, cfn.Unhashed(r.ID))
			}
		}
		reaches := func(to []string, port string) bool {
			for _, from := range fnGroups {
				for _, g := range to {
					if (g == "0.0.0.0/0" || slices.Contains(flows, fmt.Sprintf("%s ingress tcp/%s from %s", g, port, from))) &&
						slices.Contains(flows, fmt.Sprintf("%s egress tcp/%s to %s", from, port, g)) {
						return true
					}
				}
			}
			return false
		}
		var dbGroups []string
		for _, g := range cfn.List(dbProps["VPCSecurityGroups"]) {
			if r, ok := w.Resolve(db.Stack, g); ok {
				dbGroups = append(dbGroups, cfn.Unhashed(r.ID))
			}
		}
		assert.True(t, reaches(dbGroups, port), "%s: function %s (groups %v) has no path to %s (groups %v) on port %s", cr, handler, fnGroups, db, dbGroups, port)
		if len(endpointGroups) > 0 {
			assert.True(t, reaches(endpointGroups, "443"), "%s: function %s (groups %v) cannot reach the Secrets Manager endpoint (groups %v) on 443", cr, handler, fnGroups, endpointGroups)
		} else {
			assert.True(t, reaches([]string{"0.0.0.0/0"}, "443"), "%s: function %s (groups %v) cannot reach Secrets Manager: no endpoint and no HTTPS egress", cr, handler, fnGroups)
		}
		role, ok := w.Resolve(handler.Stack, w.Props(handler)["Role"])
		if !assert.True(t, ok, "%s: function %s has no role of this app", cr, handler) {
			return
		}
		for _, s := range []cfn.Ref{master, app} {
			may, why := w.roleAllows(role, iampolicy.Request{Action: "secretsmanager:GetSecretValue", Resource: w.coversSecret(role.Stack, s)})
			assert.True(t, may, "%s: role %s may not read %s (%s)", cr, role, s, why)
			if key, ok := w.Resolve(s.Stack, w.Props(s)["KmsKeyId"]); ok {
				may, why := w.roleAllows(role, iampolicy.Request{Action: "kms:Decrypt", Resource: w.Covers(role.Stack, key),
					Context: map[string]string{"kms:ViaService": "secretsmanager." + w.region + ".amazonaws.com"}})
				assert.True(t, may, "%s: role %s may not decrypt %s with %s through Secrets Manager (%s)", cr, role, s, key, why)
			}
		}
	})
}

// redisCategories are the Redis 7 ACL categories of the commands the RBAC
// rule judges (Redis command reference, "ACL categories" of each command;
// from the reference as of Redis 7.2, not checked against a server here).
var redisCategories = map[string][]string{
	// What the application needs.
	"get": {"read", "string", "fast"}, "set": {"write", "string", "slow"}, "del": {"keyspace", "write", "slow"},
	"expire": {"keyspace", "write", "fast"}, "scan": {"keyspace", "read", "slow"}, "hset": {"write", "hash", "fast"},
	"eval": {"slow", "scripting"}, "publish": {"pubsub", "fast"}, "subscribe": {"pubsub", "slow"},
	"hello": {"fast", "connection"}, "ping": {"fast", "connection"}, "info": {"slow", "dangerous"},
	// What it must never run: the list and what else Redis marks
	// administrative or dangerous.
	"flushall": {"keyspace", "write", "slow", "dangerous"}, "flushdb": {"keyspace", "write", "slow", "dangerous"},
	"keys": {"keyspace", "read", "slow", "dangerous"}, "config|set": {"admin", "slow", "dangerous"},
	"config|get": {"admin", "slow", "dangerous"}, "debug": {"admin", "slow", "dangerous"}, "shutdown": {"admin", "slow", "dangerous"},
	"acl|setuser": {"admin", "slow", "dangerous"}, "acl|deluser": {"admin", "slow", "dangerous"}, "monitor": {"admin", "slow", "dangerous"},
	"replicaof": {"admin", "slow", "dangerous"}, "save": {"admin", "slow", "dangerous"}, "bgsave": {"admin", "slow", "dangerous"},
	"migrate": {"keyspace", "write", "slow", "dangerous"}, "client|kill": {"admin", "slow", "dangerous", "connection"},
	"module|load": {"admin", "slow", "dangerous"}, "failover": {"admin", "slow", "dangerous"},
}

var (
	redisDataCommands  = []string{"get", "set", "del", "expire", "scan", "hset", "eval", "publish", "subscribe", "hello", "ping", "info"}
	redisAdminCommands = []string{"flushall", "flushdb", "keys", "config|set", "config|get", "debug", "shutdown", "acl|setuser", "acl|deluser",
		"monitor", "replicaof", "save", "bgsave", "migrate", "client|kill", "module|load", "failover"}
)

// redisACL is what an ACL access string grants, as Redis applies its rules
// left to right: whether the user is on, whether it reaches every key and
// every channel, and which of the commands asked about it may run.
type redisACL struct {
	on, allKeys, allChannels bool
	allowed                  map[string]bool
}

// redisAccess evaluates access for the commands given (a subcommand as
// "parent|sub"): +@all/allcommands and -@all/nocommands set every command,
// +@cat and -@cat the commands of the category, +cmd and -cmd the command
// and its subcommands; +cmd|arg (a subcommand, or a first argument) makes
// every form of cmd count as allowed, and -cmd|arg refuses only that
// subcommand, so the rule errs towards "allowed" for what must be refused.
// Any other
// token (selectors, reset, passwords, per-key permissions) is an error:
// the rule cannot judge it, so it fails instead of passing.
func redisAccess(access string, commands []string) (redisACL, error) {
	acl := redisACL{allowed: map[string]bool{}}
	for _, rule := range strings.Fields(strings.ToLower(access)) {
		switch {
		case rule == "on" || rule == "off":
			acl.on = rule == "on"
		case rule == "~*" || rule == "allkeys":
			acl.allKeys = true
		case rule == "resetkeys":
			acl.allKeys = false
		case rule == "&*" || rule == "allchannels":
			acl.allChannels = true
		case rule == "resetchannels":
			acl.allChannels = false
		case strings.HasPrefix(rule, "~") || strings.HasPrefix(rule, "&"):
			// A narrower key or channel pattern adds nothing to "all".
		case rule == "+@all" || rule == "allcommands" || rule == "-@all" || rule == "nocommands":
			for _, c := range commands {
				acl.allowed[c] = rule[0] == '+' || rule == "allcommands"
			}
		case strings.HasPrefix(rule, "+@") || strings.HasPrefix(rule, "-@"):
			for _, c := range commands {
				if slices.Contains(redisCategories[c], rule[2:]) {
					acl.allowed[c] = rule[0] == '+'
				}
			}
		case (strings.HasPrefix(rule, "+") || strings.HasPrefix(rule, "-")) && len(rule) > 1 && !strings.ContainsAny(rule, "()"):
			name, arg, partial := strings.Cut(rule[1:], "|")
			for _, c := range commands {
				parent, _, _ := strings.Cut(c, "|")
				switch {
				case name != parent:
				case !partial:
					acl.allowed[c] = rule[0] == '+'
				case rule[0] == '+':
					// A subcommand or first argument of c allowed: c is
					// (partly) allowed.
					acl.allowed[c] = true
				case c == name+"|"+arg:
					acl.allowed[c] = false
				}
			}
		default:
			return acl, fmt.Errorf("access string %q: cannot judge %q", access, rule)
		}
	}
	return acl, nil
}

// redisGroupsUseRBAC: an AUTH token is one shared password with every
// command; RBAC users have their own passwords and permissions, and the
// built-in default user (no password, every command) is in every group
// until a user named default replaces it.
func redisGroupsUseRBAC(t checkT, w world) int {
	return w.Each("AWS::ElastiCache::ReplicationGroup", func(rg cfn.Ref, props, _ map[string]any) {
		assert.Nil(t, props["AuthToken"], "%s authenticates with an AUTH token; use RBAC user groups", rg)
		groups := cfn.List(props["UserGroupIds"])
		assert.NotEmpty(t, groups, "%s has no RBAC user group: without one, anyone who reaches it runs every command as the default user", rg)
		for _, g := range groups {
			group, ok := w.Resolve(rg.Stack, g)
			if !assert.True(t, ok && w.Type(group) == "AWS::ElastiCache::UserGroup", "%s: user group %s is not one of this app", rg, cfn.JSON(g)) {
				continue
			}
			defaults := 0
			for _, u := range cfn.List(w.Props(group)["UserIds"]) {
				user, ok := w.Resolve(group.Stack, u)
				if !assert.True(t, ok && w.Type(user) == "AWS::ElastiCache::User", "%s: user %s is not one of this app", group, cfn.JSON(u)) {
					continue
				}
				up := w.Props(user)
				access := fmt.Sprint(up["AccessString"])
				acl, err := redisAccess(access, append(slices.Clone(redisDataCommands), redisAdminCommands...))
				if !assert.NoError(t, err, "%s", user) {
					continue
				}
				if up["UserName"] == "default" {
					defaults++
					assert.False(t, acl.on, "%s: the default user (%q) is on; it must be off", user, access)
					continue
				}
				assert.True(t, acl.on && acl.allKeys && acl.allChannels, "%s (%q): the application's user must be on and reach every key (~*) and channel (&*)", user, access)
				for _, c := range redisDataCommands {
					assert.True(t, acl.allowed[c], "%s (%q) may not run %s, which the application needs", user, access, c)
				}
				for _, c := range redisAdminCommands {
					assert.False(t, acl.allowed[c], "%s (%q) may run %s, an administrative command", user, access, c)
				}
				mode := cfn.Object(up["AuthenticationMode"])
				assert.Equal(t, "password", mode["Type"], "%s: authenticates by %v, not by password", user, mode["Type"])
				passwords := cfn.List(mode["Passwords"])
				assert.NotEmpty(t, passwords, "%s has no password", user)
				for _, p := range passwords {
					assert.Contains(t, cfn.JSON(p), ":SecretString:password::", "%s: its password is not the password field of a secret", user)
					read := false
					for _, r := range w.refsIn(user.Stack, p) {
						ref := map[string]any{"Ref": r.ID}
						if s, ok := w.secretOf(r.Stack, ref); ok {
							read = read || w.isContainerSecret(r.Stack, ref)
							assert.Contains(t, cfn.JSON(cfn.Object(w.Props(s)["GenerateSecretString"])["SecretStringTemplate"]), fmt.Sprintf(`\"username\":\"%s\"`, up["UserName"]),
								"%s: secret %s names another user than %v", user, s, up["UserName"])
						}
					}
					assert.True(t, read, "%s: its password %s is in no secret a task reads", user, cfn.JSON(p))
				}
			}
			assert.Equal(t, 1, defaults, "%s: a user group must hold exactly one user named default, replacing the built-in one (which has no password and every command)", group)
		}
	})
}

// TestRedisAccessStrings: the evaluator the RBAC rule relies on reads the
// platform's strings as Redis does, and refuses to judge what it does not
// model.
func TestRedisAccessStrings(t *testing.T) {
	commands := append(slices.Clone(redisDataCommands), redisAdminCommands...)
	acl, err := redisAccess(config.RedisAppAccess, commands)
	require.NoError(t, err)
	assert.True(t, acl.on && acl.allKeys && acl.allChannels)
	assert.True(t, acl.allowed["get"] && acl.allowed["info"] && acl.allowed["eval"])
	assert.False(t, acl.allowed["flushall"] || acl.allowed["config|set"] || acl.allowed["keys"] || acl.allowed["acl|setuser"])
	acl, err = redisAccess(config.RedisDisabledAccess, commands)
	require.NoError(t, err)
	assert.False(t, acl.on)
	for access, allowed := range map[string]string{
		"on ~* &* +@all -@admin -@dangerous +flushall|async": "flushall",
		"on ~* &* -@all +config|get":                         "config|set",
		"on ~* &* +@all -@dangerous +@admin":                 "shutdown",
	} {
		acl, err := redisAccess(access, commands)
		require.NoError(t, err, access)
		assert.True(t, acl.allowed[allowed], "%q allows %s", access, allowed)
	}
	acl, err = redisAccess("on +@all -@admin -@dangerous +info", commands)
	require.NoError(t, err)
	assert.False(t, acl.allKeys || acl.allChannels, "no key or channel pattern reaches nothing")
	for _, access := range []string{"on ~* +@all (~* +@all)", "on nopass ~* +@all", "reset on ~* +@all", "on %R~* +@all >secret"} {
		_, err := redisAccess(access, commands)
		assert.Error(t, err, "%q is not judged", access)
	}
}
