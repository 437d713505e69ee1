package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/platform/lib/config"
)

// DatabaseStackProps configures the Database stack.
type DatabaseStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	Database   config.Database
	// FunctionLogRetentionDays keeps the rotation function's logs.
	FunctionLogRetentionDays int
	Vpc                      awsec2.IVpc
	// SecurityGroup is attached to the instance; RotationSecurityGroup to
	// the rotation function. Their rules live in the Network stack.
	SecurityGroup         awsec2.ISecurityGroup
	RotationSecurityGroup awsec2.ISecurityGroup
	// Key encrypts storage and Performance Insights.
	Key awskms.IKey
	// Credentials is the master secret from the Secrets stack;
	// ApplicationCredentials the application user's.
	Credentials, ApplicationCredentials awssecretsmanager.ISecret
}

// DatabaseStack owns the PostgreSQL instance and what only it uses.
type DatabaseStack struct {
	awscdk.Stack
	Instance awsrds.IDatabaseInstance
	// Credentials is the master secret attached to the instance: besides
	// username and password it holds host, port, engine and dbname.
	Credentials awssecretsmanager.ISecret
	// ApplicationCredentials is the application user's secret, attached
	// the same way: what the tasks read.
	ApplicationCredentials awssecretsmanager.ISecret
}

// NewDatabaseStack creates RDS PostgreSQL in the private subnets, attaches
// the master secret to it and rotates that secret.
func NewDatabaseStack(scope constructs.Construct, id string, props *DatabaseStackProps) *DatabaseStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	dep, db := props.Deployment, props.Database
	engine := awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{
		Version: awsrds.PostgresEngineVersion_Of(jsii.String(db.EngineVersion), jsii.String(db.PostgresMajor()), nil),
	})
	// The identifier is a physical name because the log groups RDS exports
	// to are named after it; creating them here gives them a retention.
	identifier := dep.Name()
	instance := newDatabaseInstance(stack, props, engine, identifier, exportedLogGroups(stack, dep, db, identifier))

	// Attaching here, not in the Secrets stack, keeps the dependency one
	// way: the secrets learn host and port from the instance.
	attach := func(id string, secret awssecretsmanager.ISecret) awssecretsmanager.ISecret {
		return awssecretsmanager.NewSecretTargetAttachment(stack, jsii.String(id), &awssecretsmanager.SecretTargetAttachmentProps{Secret: secret, Target: instance})
	}
	master, app := attach("CredentialsAttachment", props.Credentials), attach("ApplicationCredentialsAttachment", props.ApplicationCredentials)
	// The Service stack imported the master secret's ARN before it read the
	// application's secret: the export stays until every environment has
	// deployed the Service stack that no longer imports it (CloudFormation
	// refuses to remove an export in use).
	stack.ExportValue(master.SecretArn(), nil)

	rotationGroup := lockedSecurityGroup(stack, "RotationSecurityGroup", props.RotationSecurityGroup)
	rotate(stack, props, master, rotationGroup)
	user := newDatabaseUser(stack, props, instance, master, app, rotationGroup)
	rotateApplication(stack, props, app, master, rotationGroup).Node().AddDependency(user)

	output(stack, "RdsEndpoint", "rds_endpoint: PostgreSQL address:port",
		awscdk.Fn_Join(jsii.String(":"), &[]*string{instance.DbInstanceEndpointAddress(), instance.DbInstanceEndpointPort()}))
	output(stack, "DatabaseSecretArn", "database_secret_arn: the master credentials (username, password, host, port, dbname), for rotation and people", master.SecretArn())
	output(stack, "ApplicationSecretArn", "application_secret_arn: the application user's credentials (username, password, host, port, dbname), what the tasks read", app.SecretArn())
	return &DatabaseStack{Stack: stack, Instance: instance, Credentials: master, ApplicationCredentials: app}
}

// logExports are the PostgreSQL logs exported to CloudWatch Logs, with the
// construct IDs of their log groups.
var logExports = []struct{ name, id string }{{"postgresql", "PostgresqlLog"}, {"upgrade", "UpgradeLog"}}

// exportedLogGroups creates the log groups RDS exports to, named as RDS
// names them, so that they have a retention.
func exportedLogGroups(scope constructs.Construct, dep Deployment, db config.Database, identifier string) []constructs.IDependable {
	var groups []constructs.IDependable
	for _, e := range logExports {
		groups = append(groups, newLogGroup(scope, e.id, dep, db.LogRetentionDays, fmt.Sprintf("/aws/rds/instance/%s/%s", identifier, e.name)))
	}
	return groups
}

// newDatabaseInstance creates the instance with its parameter group, subnet
// group and monitoring role; it starts exporting logs once their groups
// exist. Most of its length is the instance's one props literal.
func newDatabaseInstance(stack awscdk.Stack, props *DatabaseStackProps, engine awsrds.IInstanceEngine, identifier string, logGroups []constructs.IDependable) awsrds.DatabaseInstance {
	dep, db := props.Deployment, props.Database
	// The parameter group's family follows the major version, so a major
	// upgrade brings a new group with it.
	params := awsrds.NewParameterGroup(stack, jsii.String("ParameterGroup"), &awsrds.ParameterGroupProps{
		Engine:      engine,
		Description: jsii.String(fmt.Sprintf("%s PostgreSQL %s", dep.Title(), db.PostgresMajor())),
		Parameters: &map[string]*string{
			"rds.force_ssl":              jsii.String("1"),
			"log_min_duration_statement": jsii.String(fmt.Sprint(db.SlowStatementMillis)),
			"log_lock_waits":             jsii.String("1"),
		},
		RemovalPolicy: dep.removalPolicy(),
	})
	subnetGroup := awsrds.NewSubnetGroup(stack, jsii.String("SubnetGroup"), &awsrds.SubnetGroupProps{
		Vpc:           props.Vpc,
		VpcSubnets:    privateSubnets,
		Description:   jsii.String(dep.Title() + " database subnets"),
		RemovalPolicy: dep.removalPolicy(),
	})
	monitoringRole := awsiam.NewRole(stack, jsii.String("MonitoringRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("monitoring.rds.amazonaws.com"), nil),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AmazonRDSEnhancedMonitoringRole")),
		},
	})
	suppress(monitoringRole, "AwsSolutions-IAM4",
		"AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy for enhanced monitoring; it only writes the RDSOSMetrics log group.")

	var exports []string
	for _, e := range logExports {
		exports = append(exports, e.name)
	}
	instance := awsrds.NewDatabaseInstance(stack, jsii.String("Database"), &awsrds.DatabaseInstanceProps{
		Engine:             engine,
		InstanceIdentifier: jsii.String(identifier),
		InstanceType:       awsec2.NewInstanceType(jsii.String(db.InstanceClass)),
		Vpc:                props.Vpc,
		SubnetGroup:        subnetGroup,
		SecurityGroups:     &[]awsec2.ISecurityGroup{lockedSecurityGroup(stack, "DatabaseSecurityGroup", props.SecurityGroup)},
		Port:               jsii.Number(PostgresPort),
		PubliclyAccessible: jsii.Bool(false),
		DatabaseName:       jsii.String(db.DatabaseName),
		Credentials:        awsrds.Credentials_FromPassword(jsii.String(db.Username), props.Credentials.SecretValueFromJson(jsii.String("password"))),
		ParameterGroup:     params,
		// A new major in Database.EngineVersion is a reviewed change: RDS
		// upgrades in place only with this flag, in the same update that
		// points the instance at the parameter group of the new family,
		// which the stack derives from the major (docs/operations.md).
		AllowMajorVersionUpgrade:   jsii.Bool(true),
		MultiAz:                    jsii.Bool(db.MultiAZ),
		StorageType:                awsrds.StorageType_GP3,
		AllocatedStorage:           jsii.Number(float64(db.AllocatedStorageGiB)),
		MaxAllocatedStorage:        jsii.Number(float64(db.MaxAllocatedStorageGiB)),
		StorageEncrypted:           jsii.Bool(true),
		StorageEncryptionKey:       props.Key,
		BackupRetention:            awscdk.Duration_Days(jsii.Number(float64(db.BackupRetentionDays))),
		PreferredBackupWindow:      jsii.String(db.BackupWindow),
		PreferredMaintenanceWindow: jsii.String(db.MaintenanceWindow),
		CopyTagsToSnapshot:         jsii.Bool(true),
		DeletionProtection:         jsii.Bool(props.Deployment.protected("Database", db.DeletionProtection)),
		// A final snapshot in every environment: dev still tears down, and
		// an accidental replacement never loses data.
		RemovalPolicy:                   awscdk.RemovalPolicy_SNAPSHOT,
		AutoMinorVersionUpgrade:         jsii.Bool(true),
		IamAuthentication:               jsii.Bool(true),
		CloudwatchLogsExports:           jsii.Strings(exports...),
		MonitoringInterval:              awscdk.Duration_Seconds(jsii.Number(float64(db.MonitoringIntervalSeconds))),
		MonitoringRole:                  monitoringRole,
		EnablePerformanceInsights:       jsii.Bool(true),
		PerformanceInsightEncryptionKey: props.Key,
		CaCertificate:                   awsrds.CaCertificate_RDS_CA_RSA2048_G1(),
	})
	instance.Node().AddDependency(logGroups...)
	suppress(instance, "AwsSolutions-RDS11",
		fmt.Sprintf("PostgreSQL keeps its default port %d: the database security group admits only the application and the rotation function, so another port adds no protection.", PostgresPort))
	if !db.MultiAZ {
		suppress(instance, "AwsSolutions-RDS3", "Single-AZ is the documented choice for this environment (Config.Database.MultiAZ=false) to keep it cheap; prod runs Multi-AZ.")
	}
	switch {
	case !db.DeletionProtection:
		suppress(instance, "AwsSolutions-RDS10", "Deletion protection is off in this environment (Config.Database.DeletionProtection=false) so that cdk destroy completes; a final snapshot is still taken.")
	case !props.Deployment.protected("Database", true):
		suppress(instance, "AwsSolutions-RDS10", "The deploy creates this stack: deletion protection comes on in its second pass, once the create has completed, so that a failed create can roll back (make deploy).")
	}
	return instance
}

// rotate schedules single-user hosted rotation of the master secret. The
// function runs in the private subnets and reaches PostgreSQL and Secrets
// Manager through the rotation security group. It is named so that its log
// group can exist, with a retention, before the Secrets Manager transform
// creates it.
//
// It does not rotate when the stack creates or updates it (the generated
// password is new): a rotation then would run while the database-user
// function and the application secret's first rotation log in as the
// master user, and single-user rotation changes the password in the
// database before it moves AWSCURRENT.
func rotate(stack awscdk.Stack, props *DatabaseStackProps, secret awssecretsmanager.ISecret, group awsec2.ISecurityGroup) {
	function := props.Deployment.Name("db-rotation")
	schedule(stack, props, "CredentialsRotation", "RotationLogs", function, secret, awssecretsmanager.HostedRotation_PostgreSqlSingleUser(&awssecretsmanager.SingleUserHostedRotationOptions{
		FunctionName:   jsii.String(function),
		Vpc:            props.Vpc,
		VpcSubnets:     privateSubnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{group},
	}), false)
}

// rotateApplication schedules alternating-users rotation of the
// application's secret: the function, logged in as the master user,
// changes the password of whichever of the user and its clone is not
// current and moves AWSCURRENT to it, so the credentials running tasks
// hold stay valid until the rotation after next (Secrets Manager User
// Guide, rotating-secrets_strategies#rotating-secrets-two-users). The
// tasks started by the redeploy after it log in with the new ones. It
// rotates when the stack creates it, which gives the clone (created without
// a password) its own.
func rotateApplication(stack awscdk.Stack, props *DatabaseStackProps, secret, master awssecretsmanager.ISecret, group awsec2.ISecurityGroup) awssecretsmanager.RotationSchedule {
	function := props.Deployment.Name("db-app-rotation")
	return schedule(stack, props, "ApplicationCredentialsRotation", "ApplicationRotationLogs", function, secret, awssecretsmanager.HostedRotation_PostgreSqlMultiUser(&awssecretsmanager.MultiUserHostedRotationOptions{
		MasterSecret:   master,
		FunctionName:   jsii.String(function),
		Vpc:            props.Vpc,
		VpcSubnets:     privateSubnets,
		SecurityGroups: &[]awsec2.ISecurityGroup{group},
	}), true)
}

// schedule rotates secret every RotationDays with a hosted function whose
// log group exists first; now says whether it also rotates when the stack
// creates or updates the schedule.
func schedule(stack awscdk.Stack, props *DatabaseStackProps, id, logsID, function string, secret awssecretsmanager.ISecret, hosted awssecretsmanager.HostedRotation, now bool) awssecretsmanager.RotationSchedule {
	logs := newLogGroup(stack, logsID, props.Deployment, props.FunctionLogRetentionDays, "/aws/lambda/"+function)
	rotation := awssecretsmanager.NewRotationSchedule(stack, jsii.String(id), &awssecretsmanager.RotationScheduleProps{
		Secret:                    secret,
		HostedRotation:            hosted,
		AutomaticallyAfter:        awscdk.Duration_Days(jsii.Number(float64(props.Database.RotationDays))),
		RotateImmediatelyOnUpdate: jsii.Bool(now),
	})
	rotation.Node().AddDependency(logs)
	return rotation
}
