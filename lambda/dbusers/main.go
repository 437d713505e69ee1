// Command dbusers is the Lambda function behind the Database stack's
// Custom::DatabaseUser: on create and update it connects to PostgreSQL as
// the master user (over TLS, from the private subnets) and makes the
// application's user exist with exactly its privileges
// (internal/dbusers.Ensure); on delete it does nothing, so a stack deleted
// while its data is retained never loses the user. The CDK's provider
// framework calls it and answers CloudFormation.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/example/platform/internal/dbusers"
)

// event is what the provider framework sends the onEvent handler.
type event struct {
	RequestType        string
	PhysicalResourceId string
	ResourceProperties struct {
		// MasterSecretArn and AppSecretArn are the attached secrets: the
		// master's {username, password, host, port, dbname}, and the
		// application's, whose password the user starts with.
		MasterSecretArn, AppSecretArn string
		// UserName is the application's user, which is also its schema.
		UserName string
	}
}

type response struct {
	PhysicalResourceId string
}

// secret is the part of an attached RDS secret the function reads.
type secret struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	DBName   string `json:"dbname"`
}

func handle(ctx context.Context, e event) (response, error) {
	p := e.ResourceProperties
	id := "database-user:" + p.UserName
	if e.RequestType == "Delete" {
		return response{PhysicalResourceId: e.PhysicalResourceId}, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return response{}, err
	}
	sm := secretsmanager.NewFromConfig(cfg)
	read := func(arn string) (secret, error) {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		if err != nil {
			return secret{}, fmt.Errorf("reading %s: %w", arn, err)
		}
		var s secret
		return s, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &s)
	}
	master, err := read(p.MasterSecretArn)
	if err != nil {
		return response{}, err
	}
	app, err := read(p.AppSecretArn)
	if err != nil {
		return response{}, err
	}
	// TLS without verifying the server's certificate against the RDS CA
	// bundle, which the function does not carry: the connection never
	// leaves the VPC.
	dsn := url.URL{Scheme: "postgres", User: url.UserPassword(master.Username, master.Password), Host: master.Host + ":" + strconv.Itoa(master.Port),
		Path: "/" + master.DBName, RawQuery: "sslmode=require&connect_timeout=10"}
	conn, err := pgx.Connect(ctx, dsn.String())
	if err != nil {
		return response{}, fmt.Errorf("connecting to %s as %s: %w", master.Host, master.Username, err)
	}
	defer conn.Close(ctx)
	// After a rotation the secret's current user may be the clone; the
	// password matters only when the user is created, which the first
	// deploy does before any rotation.
	user := dbusers.User{Name: p.UserName, Password: app.Password, Database: master.DBName, Schema: p.UserName}
	if err := dbusers.Ensure(ctx, conn, user); err != nil {
		return response{}, err
	}
	return response{PhysicalResourceId: id}, nil
}

func main() { lambda.Start(handle) }
