package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// DatabaseStackProps configures the Database stack.
type DatabaseStackProps struct {
	awscdk.StackProps
	Config config.Config
	Vpc    awsec2.IVpc
	// SecurityGroup is attached to the instance; RotationSecurityGroup to
	// the rotation function. Their rules live in the Network stack.
	SecurityGroup         awsec2.ISecurityGroup
	RotationSecurityGroup awsec2.ISecurityGroup
	// Key encrypts storage and Performance Insights.
	Key awskms.IKey
	// Credentials is the master secret from the Secrets stack.
	Credentials awssecretsmanager.ISecret
}

// DatabaseStack owns the PostgreSQL instance and what only it uses.
type DatabaseStack struct {
	awscdk.Stack
	Instance awsrds.IDatabaseInstance
	// Credentials is the master secret attached to the instance: besides
	// username and password it holds host, port, engine and dbname.
	Credentials awssecretsmanager.ISecret
	// Rotation rotates Credentials; the Service layer redeploys tasks when
	// it does.
	Rotation awssecretsmanager.RotationSchedule
}

// NewDatabaseStack creates RDS PostgreSQL in the private subnets.
func NewDatabaseStack(scope constructs.Construct, id string, props *DatabaseStackProps) *DatabaseStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	cfg := props.Config
	d := cfg.Database
	private := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}

	engine := awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{
		Version: awsrds.PostgresEngineVersion_Of(jsii.String(d.EngineVersion), jsii.String(d.PostgresMajor()), nil),
	})
	// The parameter group's family follows the major version, so a major
	// upgrade brings a new group with it.
	params := awsrds.NewParameterGroup(stack, jsii.String("ParameterGroup"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String(fmt.Sprintf("%s %s PostgreSQL %s", cfg.AppName, cfg.Environment, d.PostgresMajor())),
		Parameters: &map[string]*string{
			"rds.force_ssl":              jsii.String("1"),
			"log_min_duration_statement": jsii.String(fmt.Sprint(d.SlowStatementMillis)),
			"log_lock_waits":             jsii.String("1"),
		},
		RemovalPolicy: removalPolicy(cfg),
	})
	subnetGroup := awsrds.NewSubnetGroup(stack, jsii.String("SubnetGroup"), &awsrds.SubnetGroupProps{
		Vpc:           props.Vpc,
		VpcSubnets:    private,
		Description:   jsii.String(fmt.Sprintf("%s %s database subnets", cfg.AppName, cfg.Environment)),
		RemovalPolicy: removalPolicy(cfg),
	})
	monitoringRole := awsiam.NewRole(stack, jsii.String("MonitoringRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("monitoring.rds.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonRDSEnhancedMonitoringRole")),
		},
	})
	suppress(monitoringRole, "AwsSolutions-IAM4",
		"AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy for enhanced monitoring; it only writes the RDSOSMetrics log group.")

	// The identifier is a physical name because the log groups RDS exports
	// to are named after it; creating them here gives them a retention.
	identifier := fmt.Sprintf("%s-%s", cfg.AppName, cfg.Environment)
	exports := []string{"postgresql", "upgrade"}
	var logGroups []constructs.IDependable
	for _, name := range exports {
		lg := awslogs.NewLogGroup(stack, jsii.String(map[string]string{"postgresql": "PostgresqlLog", "upgrade": "UpgradeLog"}[name]), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String(fmt.Sprintf("/aws/rds/instance/%s/%s", identifier, name)),
			Retention:     retention(d.LogRetentionDays),
			RemovalPolicy: removalPolicy(cfg),
		})
		logGroups = append(logGroups, lg)
	}

	instance := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		Engine:                     engine,
		InstanceIdentifier:         jsii.String(identifier),
		InstanceType:               awsec2.NewInstanceType(jsii.String(d.InstanceClass)),
		Vpc:                        props.Vpc,
		SubnetGroup:                subnetGroup,
		SecurityGroups:             &[]awsec2.ISecurityGroup{props.SecurityGroup},
		Port:                       jsii.Number(PostgresPort),
		PubliclyAccessible:         jsii.Bool(false),
		DatabaseName:               jsii.String(d.DatabaseName),
		Credentials:                awsrds.Credentials_FromPassword(jsii.String(d.Username), props.Credentials.SecretValueFromJson(jsii.String("password"))),
		ParameterGroup:             params,
		MultiAz:                    jsii.Bool(d.MultiAZ),
		StorageType:                awsrds.StorageType_GP3,
		AllocatedStorage:           jsii.Number(float64(d.AllocatedStorageGiB)),
		MaxAllocatedStorage:        jsii.Number(float64(d.MaxAllocatedStorageGiB)),
		StorageEncrypted:           jsii.Bool(true),
		StorageEncryptionKey:       props.Key,
		BackupRetention:            awscdk.Duration_Days(jsii.Number(float64(d.BackupRetentionDays))),
		PreferredBackupWindow:      jsii.String(d.BackupWindow),
		PreferredMaintenanceWindow: jsii.String(d.MaintenanceWindow),
		CopyTagsToSnapshot:         jsii.Bool(true),
		DeletionProtection:         jsii.Bool(d.DeletionProtection),
		// A final snapshot in every environment: dev still tears down, and
		// an accidental replacement never loses data.
		RemovalPolicy:                   awscdk.RemovalPolicy_SNAPSHOT,
		AutoMinorVersionUpgrade:         jsii.Bool(true),
		IamAuthentication:               jsii.Bool(true),
		CloudwatchLogsExports:           jsii.Strings(exports...),
		MonitoringInterval:              awscdk.Duration_Seconds(jsii.Number(float64(d.MonitoringIntervalSeconds))),
		MonitoringRole:                  monitoringRole,
		EnablePerformanceInsights:       jsii.Bool(true),
		PerformanceInsightEncryptionKey: props.Key,
		CaCertificate:                   awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
	})
	instance.Node().AddDependency(logGroups...)
	suppress(instance, "AwsSolutions-RDS11",
		"PostgreSQL keeps its default port 5432: the database security group admits only the application and the rotation function, so another port adds no protection.")
	if !d.MultiAZ {
		suppress(instance, "AwsSolutions-RDS3", "Single-AZ is the documented choice for this environment (Config.Database.MultiAZ=false) to keep it cheap; prod runs Multi-AZ.")
	}
	if !d.DeletionProtection {
		suppress(instance, "AwsSolutions-RDS10", "Deletion protection is off in this environment (Config.Database.DeletionProtection=false) so that cdk destroy completes; a final snapshot is still taken.")
	}

	// Attaching here, not in the Secrets stack, keeps the dependency one
	// way: the secret learns host and port from the instance.
	attached := awssecretsmanager.NewSecretTargetAttachment(stack, jsii.String("CredentialsAttachment"), &awssecretsmanager.SecretTargetAttachmentProps{
		Secret: props.Credentials,
		Target: instance,
	})
	// Hosted rotation runs in the private subnets; it reaches PostgreSQL
	// and Secrets Manager through RotationSecurityGroup.
	// The rotation function is named so that its log group can exist, with
	// a retention, before the Secrets Manager transform creates it.
	rotationFunction := fmt.Sprintf("%s-%s-db-rotation", cfg.AppName, cfg.Environment)
	rotationLogs := awslogs.NewLogGroup(stack, jsii.String("RotationLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/lambda/" + rotationFunction),
		Retention:     retention(cfg.Monitoring.FunctionLogRetentionDays),
		RemovalPolicy: removalPolicy(cfg),
	})
	rotation := awssecretsmanager.NewRotationSchedule(stack, jsii.String("CredentialsRotation"), &awssecretsmanager.RotationScheduleProps{
		Secret: attached,
		HostedRotation: awssecretsmanager.HostedRotation_PostgreSqlSingleUser(&awssecretsmanager.SingleUserHostedRotationOptions{
			FunctionName:   jsii.String(rotationFunction),
			Vpc:            props.Vpc,
			VpcSubnets:     private,
			SecurityGroups: &[]awsec2.ISecurityGroup{props.RotationSecurityGroup},
		}),
		AutomaticallyAfter: awscdk.Duration_Days(jsii.Number(float64(d.RotationDays))),
	})
	rotation.Node().AddDependency(rotationLogs)

	output(stack, "RdsEndpoint", "rds_endpoint: PostgreSQL address:port",
		awscdk.Fn_Join(jsii.String(":"), &[]*string{instance.DbInstanceEndpointAddress(), instance.DbInstanceEndpointPort()}))
	output(stack, "DatabaseSecretArn", "database_secret_arn: the master credentials (username, password, host, port, dbname)", attached.SecretArn())

	return &DatabaseStack{Stack: stack, Instance: instance, Credentials: attached, Rotation: rotation}
}
