package config

import (
	"fmt"
	"net/mail"
	"reflect"
	"slices"
	"strings"
)

// Monitoring configures the alarm topic and the alarm thresholds. Every
// alarm notifies the topic when it goes into ALARM and back to OK.
type Monitoring struct {
	// AlarmEmails are subscribed to the alarm topic (each confirms by
	// mail). Addresses at the
	// reserved example domains are placeholders, refused once Account is a
	// real account. Set in the environment's file. Default none (prod's file
	// carries a placeholder).
	AlarmEmails []string
	// RequireAlarmDestination makes at least one alarm e-mail mandatory, so
	// that alarms in this environment always reach someone. Default false
	// in dev, true in prod.
	RequireAlarmDestination bool
	// FunctionLogRetentionDays keeps the logs of the platform's own
	// functions (custom resources, credential rotation, the redeploy state
	// machine); one of the values CloudWatch Logs accepts. Default 14 in dev,
	// 365 in prod (Control Tower CT.CLOUDWATCH.PR.2).
	FunctionLogRetentionDays int
	// Thresholds of the alarms.
	Thresholds Thresholds
}

// Thresholds are the alarm thresholds. Percentages are 1-100; counts,
// sizes and times are positive.
type Thresholds struct {
	// ALB5xxPercent: share of requests the ALB itself answers with 5xx.
	// Default 5 in dev, 1 in prod.
	ALB5xxPercent float64
	// Target5xxCount: 5xx answers from the tasks per minute; also a
	// deployment alarm that rolls back a bad image. Default 20 in dev, 5 in prod.
	Target5xxCount float64
	// UnhealthyTargets: unhealthy tasks in the target group; also a
	// deployment alarm. Default 1.
	UnhealthyTargets float64
	// P95ResponseSeconds and P99ResponseSeconds: target response time.
	// Default 2 and 5 in dev, 1 and 3 in prod.
	P95ResponseSeconds float64
	P99ResponseSeconds float64
	// ServiceCPUPercent and ServiceMemoryPercent: service utilization.
	// Default 90 and 90 in dev, 80 and 80 in prod.
	ServiceCPUPercent    float64
	ServiceMemoryPercent float64
	// ClusterCPUReservationPercent and ClusterMemoryReservationPercent:
	// share of the instances' capacity reserved by tasks. Default 90.
	ClusterCPUReservationPercent    float64
	ClusterMemoryReservationPercent float64
	// DatabaseCPUPercent: database CPU utilization. Default 90 in dev, 80
	// in prod.
	DatabaseCPUPercent float64
	// DatabaseFreeableMemoryMiB: alarm below. Default 64 in dev, 512 in prod.
	DatabaseFreeableMemoryMiB float64
	// DatabaseFreeStorageGiB: alarm below. Default 2 in dev, 20 in prod.
	DatabaseFreeStorageGiB float64
	// DatabaseConnections: alarm above. Default 70 in dev, 500 in prod.
	DatabaseConnections float64
	// DatabaseLatencyMillis: read and write latency. Default 50 in dev,
	// 20 in prod.
	DatabaseLatencyMillis float64
	// RedisEngineCPUPercent and RedisMemoryPercent: Redis engine thread CPU
	// and share of maxmemory used, worst node. Default 90 and 90 in dev, 80
	// and 80 in prod.
	RedisEngineCPUPercent float64
	RedisMemoryPercent    float64
	// RedisEvictions: keys evicted per five minutes, worst node. Default 1000
	// in dev, 100 in prod.
	RedisEvictions float64
	// RedisConnections: alarm above. Default 500 in dev, 5000 in prod.
	RedisConnections float64
	// RedisReplicationLagSeconds: only where replicas exist. Default 5 in
	// dev, 1 in prod.
	RedisReplicationLagSeconds float64
	// FirewallBlockedRequests: requests the web ACL blocks in five
	// minutes; a sudden rise is an attack or a rule that hurts real users.
	// Only where the firewall is enabled. Default 500 in dev, 1000 in prod.
	FirewallBlockedRequests float64
}

func (c Config) validateMonitoring(v *validator) {
	m := c.Monitoring
	v.check(!m.RequireAlarmDestination || len(m.AlarmEmails) > 0, "Monitoring.AlarmEmails", m.AlarmEmails,
		"at least one address: Monitoring.RequireAlarmDestination is on, so alarms must reach someone")
	seen := map[string]bool{}
	for i, e := range m.AlarmEmails {
		field := fmt.Sprintf("Monitoring.AlarmEmails[%d]", i)
		addr, err := mail.ParseAddress(e)
		domain := strings.ToLower(e[strings.LastIndex(e, "@")+1:])
		v.check(err == nil && addr.Address == e && strings.Contains(domain, "."), field, e, "a plain e-mail address such as oncall@example.com")
		v.check(!c.RealAccount() || !placeholderDomain(domain), field, e,
			"a real address: example domains (RFC 2606) are placeholders that nobody reads")
		v.check(!seen[strings.ToLower(e)], field, e, "each address listed once (addresses are compared without case)")
		seen[strings.ToLower(e)] = true
	}
	v.check(slices.Contains(RetentionDays, m.FunctionLogRetentionDays), "Monitoring.FunctionLogRetentionDays", m.FunctionLogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))

	th := m.Thresholds
	v.check(th.P95ResponseSeconds <= th.P99ResponseSeconds, "Monitoring.Thresholds.P95ResponseSeconds", th.P95ResponseSeconds,
		fmt.Sprintf("at most Monitoring.Thresholds.P99ResponseSeconds (%g): the 95th percentile is never above the 99th", th.P99ResponseSeconds))
	v.check(th.DatabaseFreeStorageGiB < float64(c.Database.AllocatedStorageGiB), "Monitoring.Thresholds.DatabaseFreeStorageGiB", th.DatabaseFreeStorageGiB,
		fmt.Sprintf("less than Database.AllocatedStorageGiB (%d): the alarm would fire on an empty database", c.Database.AllocatedStorageGiB))
	if memory, ok := dbInstanceClasses[c.Database.InstanceClass]; ok {
		v.check(th.DatabaseFreeableMemoryMiB < float64(memory), "Monitoring.Thresholds.DatabaseFreeableMemoryMiB", th.DatabaseFreeableMemoryMiB,
			fmt.Sprintf("less than the %d MiB of db.%s: the alarm would always fire", memory, c.Database.InstanceClass))
	}

	// Every threshold is positive; the percentages are at most 100.
	t := reflect.ValueOf(m.Thresholds)
	for i := range t.NumField() {
		name := t.Type().Field(i).Name
		value := t.Field(i).Float()
		field := "Monitoring.Thresholds." + name
		if strings.HasSuffix(name, "Percent") {
			v.check(value > 0 && value <= 100, field, value, "a percentage above 0 and at most 100")
		} else {
			v.check(value > 0, field, value, "a positive number")
		}
	}
}

// placeholderDomain reports whether domain is reserved for examples by
// RFC 2606 and can therefore never deliver an alarm.
func placeholderDomain(domain string) bool {
	for _, reserved := range []string{"example.com", "example.net", "example.org", "example", "test", "invalid", "localhost"} {
		if domain == reserved || strings.HasSuffix(domain, "."+reserved) {
			return true
		}
	}
	return false
}
