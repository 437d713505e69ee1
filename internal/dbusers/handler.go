package dbusers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Event is what the CDK's provider framework sends the onEvent handler of
// the Database stack's Custom::DatabaseUser.
type Event struct {
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

// Response names the resource for CloudFormation.
type Response struct {
	PhysicalResourceId string
}

// secret is the part of an attached RDS secret the handler reads. The
// attachment writes port as a number; a string is accepted too.
type secret struct {
	Username string      `json:"username"`
	Password string      `json:"password"`
	Host     string      `json:"host"`
	Port     json.Number `json:"port"`
	DBName   string      `json:"dbname"`
}

// Handler creates the application's user: on create and update it logs in
// as the master user and runs Ensure; on delete it does nothing, so a stack
// deleted while its data is retained never loses the user.
type Handler struct {
	// Read returns a secret's current value (Secrets Manager's
	// GetSecretValue, AWSCURRENT).
	Read func(ctx context.Context, arn string) (string, error)
	// SSLMode is libpq's sslmode: "require" against RDS (rds.force_ssl).
	SSLMode string
	// Retry is how long to wait before reading the master secret again
	// when PostgreSQL refuses its password: a single-user rotation of the
	// master changes the password in the database before it moves
	// AWSCURRENT, and a rotation may be running while the stack deploys.
	// The context's deadline ends the retries.
	Retry time.Duration
}

// Handle answers one provider-framework event.
func (h Handler) Handle(ctx context.Context, e Event) (Response, error) {
	p := e.ResourceProperties
	if e.RequestType == "Delete" {
		return Response{PhysicalResourceId: e.PhysicalResourceId}, nil
	}
	app, err := h.secret(ctx, p.AppSecretArn)
	if err != nil {
		return Response{}, err
	}
	var refused error
	for {
		master, err := h.secret(ctx, p.MasterSecretArn)
		if err != nil {
			return Response{}, err
		}
		conn, err := h.connect(ctx, master)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "28P01" {
			refused = err
			select {
			case <-ctx.Done():
			case <-time.After(h.Retry):
				continue
			}
		}
		if refused != nil && ctx.Err() != nil {
			return Response{}, fmt.Errorf("%w (the master password was still refused when the time ran out)", refused)
		}
		if err != nil {
			return Response{}, err
		}
		defer conn.Close(ctx)
		// After a rotation the secret's current user may be the clone;
		// the password matters only when the user is created, which the
		// first deploy does before any rotation of the application's
		// secret.
		user := User{Name: p.UserName, Password: app.Password, Database: master.DBName, Schema: p.UserName}
		if err := Ensure(ctx, conn, user); err != nil {
			return Response{}, err
		}
		return Response{PhysicalResourceId: "database-user:" + p.UserName}, nil
	}
}

func (h Handler) secret(ctx context.Context, arn string) (secret, error) {
	text, err := h.Read(ctx, arn)
	if err != nil {
		return secret{}, fmt.Errorf("reading %s: %w", arn, err)
	}
	var s secret
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return secret{}, fmt.Errorf("secret %s: %w", arn, err)
	}
	return s, nil
}

// connect logs in over TLS as sslmode says. "require" does not verify the
// server's certificate against the RDS CA bundle, which the function does
// not carry: the connection never leaves the VPC.
func (h Handler) connect(ctx context.Context, s secret) (*pgx.Conn, error) {
	port, err := strconv.Atoi(s.Port.String())
	if err != nil {
		return nil, fmt.Errorf("port %q: %w", s.Port, err)
	}
	dsn := url.URL{Scheme: "postgres", User: url.UserPassword(s.Username, s.Password), Host: s.Host + ":" + strconv.Itoa(port),
		Path: "/" + s.DBName, RawQuery: url.Values{"sslmode": {h.SSLMode}, "connect_timeout": {"10"}}.Encode()}
	conn, err := pgx.Connect(ctx, dsn.String())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s as %s: %w", s.Host, s.Username, err)
	}
	return conn, nil
}
