// Command databaseuser is the Lambda function behind the Database stack's
// Custom::DatabaseUser (internal/dbusers.Handler): on create and update it
// connects to PostgreSQL as the master user over TLS, from the private
// subnets, and makes the application's user exist with exactly its
// privileges; on delete it does nothing. The CDK's provider framework
// calls it and answers CloudFormation.
package main

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/example/platform/internal/dbusers"
)

func main() {
	var (
		once   sync.Once
		client *secretsmanager.Client
		err    error
	)
	read := func(ctx context.Context, arn string) (string, error) {
		once.Do(func() {
			var cfg aws.Config
			if cfg, err = awsconfig.LoadDefaultConfig(ctx); err == nil {
				client = secretsmanager.NewFromConfig(cfg)
			}
		})
		if err != nil {
			return "", err
		}
		out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.SecretString), nil
	}
	lambda.Start(dbusers.Handler{Read: read, SSLMode: "require", Retry: 5 * time.Second}.Handle)
}
