package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/example/platform/internal/cfn"
	"github.com/example/platform/lib/config"
	"github.com/stretchr/testify/assert"
)

func TestDatabaseStack(t *testing.T) {
	runChecks(t, "Database", []templateCheck{
		{"PostgreSQL pinned, sized and placed as configured", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			d := cfg.Database
			tpl.ResourceCountIs(jsii.String("AWS::RDS::DBInstance"), times(1))
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), map[string]any{
				"Engine":                     "postgres",
				"EngineVersion":              d.EngineVersion,
				"DBInstanceClass":            "db." + d.InstanceClass,
				"StorageType":                "gp3",
				"AllocatedStorage":           fmt.Sprint(d.AllocatedStorageGiB),
				"MaxAllocatedStorage":        d.MaxAllocatedStorageGiB,
				"StorageEncrypted":           true,
				"KmsKeyId":                   map[string]any{"Fn::ImportValue": matching("secrets:.*Key")},
				"Port":                       "5432",
				"PubliclyAccessible":         false,
				"DBSubnetGroupName":          map[string]any{"Ref": "SubnetGroup"},
				"VPCSecurityGroups":          []any{map[string]any{"Fn::ImportValue": matching("network:.*DatabaseSecurityGroup")}},
				"MultiAZ":                    d.MultiAZ,
				"DeletionProtection":         d.DeletionProtection,
				"BackupRetentionPeriod":      d.BackupRetentionDays,
				"PreferredBackupWindow":      d.BackupWindow,
				"PreferredMaintenanceWindow": d.MaintenanceWindow,
				"CopyTagsToSnapshot":         true,
				"AutoMinorVersionUpgrade":    true,
			})
		}},
		{"a final snapshot on delete or replacement", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResource(jsii.String("AWS::RDS::DBInstance"), map[string]any{"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"})
		}},
		{"master password is a dynamic reference to the Secrets stack", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), map[string]any{
				"MasterUsername":     cfg.Database.Username,
				"MasterUserPassword": map[string]any{"Fn::Join": []any{"", []any{"{{resolve:secretsmanager:", map[string]any{"Fn::ImportValue": matching("secrets:.*DatabaseCredentials")}, ":SecretString:password::}}"}}},
			})
		}},
		{"parameter group of the pinned family forces SSL and logs slow statements", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBParameterGroup"), map[string]any{
				"Family": "postgres" + cfg.Database.PostgresMajor(),
				"Parameters": map[string]any{
					"rds.force_ssl":              "1",
					"log_min_duration_statement": fmt.Sprint(cfg.Database.SlowStatementMillis),
				},
			})
		}},
		{"subnet group in the private subnets", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			ids := []any{}
			for range cfg.AvailabilityZones {
				ids = append(ids, map[string]any{"Fn::ImportValue": matching("network:.*PrivateSubnet")})
			}
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBSubnetGroup"), map[string]any{"SubnetIds": ids})
		}},
		{"log exports into log groups with retention", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), map[string]any{"EnableCloudwatchLogsExports": []any{"postgresql", "upgrade"}})
			for _, name := range []string{"postgresql", "upgrade"} {
				tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
					"Properties":     map[string]any{"LogGroupName": fmt.Sprintf("/aws/rds/instance/webapp-%s/%s", cfg.Environment, name), "RetentionInDays": cfg.Database.LogRetentionDays},
					"DeletionPolicy": policyFor(cfg, "RetainExceptOnCreate"),
				})
			}
		}},
		{"enhanced monitoring with its role and Performance Insights", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::RDS::DBInstance"), map[string]any{
				"MonitoringInterval":              cfg.Database.MonitoringIntervalSeconds,
				"MonitoringRoleArn":               map[string]any{"Fn::GetAtt": []any{matching("^MonitoringRole"), "Arn"}},
				"EnablePerformanceInsights":       true,
				"PerformanceInsightsKMSKeyId":     assertions.Match_AnyValue(),
				"EnableIAMDatabaseAuthentication": true,
			})
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
				"AssumeRolePolicyDocument": assertions.Match_ObjectLike(&map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{"Principal": map[string]any{"Service": "monitoring.rds.amazonaws.com"}})}}),
			})
		}},
		{"credentials attached and rotated from the private subnets", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::SecretTargetAttachment"), map[string]any{
				"TargetType": "AWS::RDS::DBInstance",
				"TargetId":   map[string]any{"Ref": matching("^Database")},
			})
			tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::RotationSchedule"), map[string]any{
				"SecretId": map[string]any{"Ref": matching("^CredentialsAttachment")},
				"HostedRotationLambda": assertions.Match_ObjectLike(&map[string]any{
					"RotationType":        "PostgreSQLSingleUser",
					"VpcSecurityGroupIds": map[string]any{"Fn::ImportValue": matching("network:.*RotationSecurityGroup")},
					"VpcSubnetIds":        assertions.Match_AnyValue(),
				}),
				"RotationRules":             map[string]any{"ScheduleExpression": fmt.Sprintf("rate(%d days)", cfg.Database.RotationDays)},
				"RotateImmediatelyOnUpdate": false,
			})
		}},
		{"application credentials attached and rotated by alternating users, once the user exists", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("AWS::SecretsManager::SecretTargetAttachment"), map[string]any{
				"SecretId": map[string]any{"Fn::ImportValue": matching("secrets:.*ApplicationCredentials")},
				"TargetId": map[string]any{"Ref": matching("^Database")},
			})
			tpl.HasResource(jsii.String("AWS::SecretsManager::RotationSchedule"), map[string]any{
				"Properties": map[string]any{
					"SecretId": map[string]any{"Ref": matching("^ApplicationCredentialsAttachment")},
					"HostedRotationLambda": assertions.Match_ObjectLike(&map[string]any{
						"RotationType":        "PostgreSQLMultiUser",
						"MasterSecretArn":     map[string]any{"Ref": matching("^CredentialsAttachment")},
						"RotationLambdaName":  fmt.Sprintf("webapp-%s-db-app-rotation", cfg.Environment),
						"VpcSecurityGroupIds": map[string]any{"Fn::ImportValue": matching("network:.*RotationSecurityGroup")},
					}),
					"RotationRules": map[string]any{"ScheduleExpression": fmt.Sprintf("rate(%d days)", cfg.Database.RotationDays)},
				},
				"DependsOn": assertions.Match_ArrayWith(&[]any{"DatabaseUser"}),
			})
		}},
		{"the application's user is created by a Go function in the VPC, which the delete leaves alone", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasResourceProperties(jsii.String("Custom::DatabaseUser"), map[string]any{
				"UserName":        cfg.Database.AppUsername,
				"MasterSecretArn": map[string]any{"Ref": matching("^CredentialsAttachment")},
				"AppSecretArn":    map[string]any{"Ref": matching("^ApplicationCredentialsAttachment")},
				"Definition":      matching("^[0-9a-f]{64}$"),
			})
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
				"VpcConfig": map[string]any{
					"SecurityGroupIds": []any{map[string]any{"Fn::ImportValue": matching("network:.*RotationSecurityGroup")}},
					"SubnetIds":        assertions.Match_AnyValue(),
				},
			})
		}},
		{"outputs rds_endpoint and the secret ARN", func(t *testing.T, tpl assertions.Template, cfg config.Config) {
			tpl.HasOutput(jsii.String("RdsEndpoint"), map[string]any{
				"Description": matching("^rds_endpoint: "),
				"Value": map[string]any{"Fn::Join": []any{":", []any{
					map[string]any{"Fn::GetAtt": []any{matching("^Database"), "Endpoint.Address"}},
					map[string]any{"Fn::GetAtt": []any{matching("^Database"), "Endpoint.Port"}},
				}}},
			})
			tpl.HasOutput(jsii.String("DatabaseSecretArn"), map[string]any{"Value": map[string]any{"Ref": matching("^CredentialsAttachment")}})
			tpl.HasOutput(jsii.String("ApplicationSecretArn"), map[string]any{"Value": map[string]any{"Ref": matching("^ApplicationCredentialsAttachment")}})
		}},
	})
}

// TestDatabaseVersionFollowsConfig: the engine runs the configured version
// (a major alone by default, so RDS creates its current default minor and
// no deprecated minor breaks a new environment), and the parameter
// group's family follows its major.
func TestDatabaseVersionFollowsConfig(t *testing.T) {
	for _, env := range synthesized() {
		version := envs[env].cfg.Database.EngineVersion
		major, _, _ := strings.Cut(version, ".")
		tpl := envs[env].templates["Database"]
		for id, db := range cfn.Resources(tpl, "AWS::RDS::DBInstance") {
			assert.Equal(t, version, cfn.Props(db)["EngineVersion"], "%s/%s", env, id)
		}
		for id, pg := range cfn.Resources(tpl, "AWS::RDS::DBParameterGroup") {
			assert.Equal(t, "postgres"+major, cfn.Props(pg)["Family"], "%s/%s", env, id)
		}
	}
}
