package lib

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SecretsStackProps configures the Secrets stack.
type SecretsStackProps struct {
	awscdk.StackProps
	Deployment Deployment
	// DatabaseUsername is the master user the credentials are generated for.
	DatabaseUsername string
	// ApplicationUsername is the application's own database user;
	// RedisUsername its Redis user.
	ApplicationUsername, RedisUsername string
}

// SecretsStack owns the customer-managed key of the data layer and the
// generated credentials. Nothing secret appears in any template: Secrets
// Manager generates the values at deploy time and consumers use dynamic
// references or ECS secrets.
type SecretsStack struct {
	awscdk.Stack
	// Key encrypts the secrets, the database storage, Performance Insights
	// and the Redis data at rest. Rotated yearly by KMS.
	Key awskms.IKey
	// DatabaseCredentials holds the master user's {"username",
	// "password"}; the Database stack attaches it to the instance, which
	// adds host, port and dbname. Rotation and people use it; the tasks
	// never receive it.
	DatabaseCredentials awssecretsmanager.ISecret
	// ApplicationCredentials holds the application user's {"username",
	// "password", "masterarn"}: masterarn names DatabaseCredentials, with
	// which the alternating-users rotation changes the password of whichever
	// of the user and its clone is not current. The Database stack attaches
	// it too; it is the only database secret the tasks read.
	ApplicationCredentials awssecretsmanager.ISecret
	// RedisAuthToken holds {"token"}: 64 letters and digits. It was the
	// group's AUTH token before RBAC; it is now the password of the
	// disabled "default" user, which nobody can log in as.
	RedisAuthToken awssecretsmanager.ISecret
	// RedisCredentials holds the application's Redis user {"username",
	// "password"}: 64 letters and digits, within the 16-128 characters
	// ElastiCache accepts and none of the characters it refuses.
	RedisCredentials awssecretsmanager.ISecret
}

// RedisAuthTokenKey is the JSON field of RedisAuthToken that holds the token.
const RedisAuthTokenKey = "token"

// NewSecretsStack creates the key and the secrets.
func NewSecretsStack(scope constructs.Construct, id string, props *SecretsStackProps) *SecretsStack {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	d := props.Deployment

	key := newKey(stack, "Key", d, "secrets and data at rest")

	dbCreds := awsrds.NewDatabaseSecret(stack, jsii.String("DatabaseCredentials"), &awsrds.DatabaseSecretProps{
		Username:      jsii.String(props.DatabaseUsername),
		EncryptionKey: key,
	})
	dbCreds.ApplyRemovalPolicy(d.removalPolicy())
	suppress(dbCreds, "AwsSolutions-SMG4",
		"Rotated every Config.Database.RotationDays by the RotationSchedule in the Database stack, which cdk-nag cannot see from this stack.")

	// MasterSecret adds masterarn to the secret, which the hosted
	// PostgreSQLMultiUser rotation reads (Secrets Manager User Guide,
	// reference_secret_json_structure: Amazon RDS PostgreSQL, alternating
	// users).
	appCreds := awsrds.NewDatabaseSecret(stack, jsii.String("ApplicationCredentials"), &awsrds.DatabaseSecretProps{
		Username:      jsii.String(props.ApplicationUsername),
		EncryptionKey: key,
		MasterSecret:  dbCreds,
	})
	appCreds.ApplyRemovalPolicy(d.removalPolicy())
	suppress(appCreds, "AwsSolutions-SMG4",
		"Rotated every Config.Database.RotationDays by the alternating-users RotationSchedule in the Database stack, which cdk-nag cannot see from this stack.")

	redisToken := awssecretsmanager.NewSecret(stack, jsii.String("RedisAuthToken"), &awssecretsmanager.SecretProps{
		Description:   jsii.String(d.Title() + ": Redis AUTH token"),
		EncryptionKey: key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String("{}"),
			GenerateStringKey:    jsii.String(RedisAuthTokenKey),
			PasswordLength:       jsii.Number(64),
			ExcludePunctuation:   jsii.Bool(true),
			IncludeSpace:         jsii.Bool(false),
		},
		RemovalPolicy: d.removalPolicy(),
	})
	suppress(redisToken, "AwsSolutions-SMG4",
		"The password of the disabled Redis default user, which nobody can log in as; there is nothing to rotate it for.")

	redisCreds := awssecretsmanager.NewSecret(stack, jsii.String("RedisCredentials"), &awssecretsmanager.SecretProps{
		Description:   jsii.String(d.Title() + ": the application's Redis user"),
		EncryptionKey: key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			SecretStringTemplate: jsii.String(fmt.Sprintf(`{"username":%q}`, props.RedisUsername)),
			GenerateStringKey:    jsii.String("password"),
			PasswordLength:       jsii.Number(64),
			ExcludePunctuation:   jsii.Bool(true),
			IncludeSpace:         jsii.Bool(false),
		},
		RemovalPolicy: d.removalPolicy(),
	})
	suppress(redisCreds, "AwsSolutions-SMG4",
		"An ElastiCache user holds two passwords at once: docs/operations.md rotates it by adding the new password beside the old, redeploying the service (which the secret's change starts) and dropping the old one. AWS's rotation function for ElastiCache users is a Lambda to deploy from its sample, not a CloudFormation hosted rotation; the platform does not deploy it yet.")
	output(stack, "RedisSecretArn", "redis_secret_arn: the application's Redis user (username, password)", redisCreds.SecretArn())

	return &SecretsStack{Stack: stack, Key: key, DatabaseCredentials: dbCreds, ApplicationCredentials: appCreds, RedisAuthToken: redisToken, RedisCredentials: redisCreds}
}
