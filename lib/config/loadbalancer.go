package config

import (
	"fmt"
	"regexp"
	"slices"
)

// LoadBalancer configures the internet-facing ALB and its target group.
type LoadBalancer struct {
	// CertificateArn is the ACM certificate of the HTTPS listener, in the
	// stacks' account and region. Empty serves plain HTTP (dev only).
	// Set in the environment's file. Default "" (prod's file carries a
	// placeholder that is refused once Account is a real account).
	CertificateArn string
	// RequireHTTPS makes a certificate mandatory. Default false in dev,
	// true in prod.
	RequireHTTPS bool
	// DeletionProtection blocks deleting the ALB; each environment promises
	// its value. Default false in dev, true in prod.
	DeletionProtection bool
	// HealthCheckPath is the target group's HTTP health check path.
	// Default "/healthz".
	HealthCheckPath string
	// HealthyHTTPCodes are the codes that count as healthy, e.g. "200" or
	// "200-299". Default "200-299".
	HealthyHTTPCodes string
	// HealthCheckIntervalSeconds is the time between health checks (5-300).
	// Default 15.
	HealthCheckIntervalSeconds int
	// HealthyThreshold and UnhealthyThreshold are consecutive checks (2-10).
	// Default 2 and 3.
	HealthyThreshold   int
	UnhealthyThreshold int
	// DeregistrationDelaySeconds lets in-flight requests finish (0-3600).
	// Default 30 in dev, 60 in prod.
	DeregistrationDelaySeconds int
	// IdleTimeoutSeconds closes idle connections (1-4000). Default 60.
	IdleTimeoutSeconds int
	// AccessLogRetentionDays expires access logs (1-3650). Default 30 in
	// dev, 365 in prod.
	AccessLogRetentionDays int
	// Firewall puts AWS WAF in front of the ALB.
	Firewall Firewall
}

// Firewall configures the AWS WAF web ACL associated with the ALB: AWS
// managed rule groups, a rate limit per client IP, and logs.
type Firewall struct {
	// Enabled associates the web ACL with the ALB. Default false in dev,
	// true in prod.
	Enabled bool
	// RateLimitPer5Minutes is how many requests one IP may send in five
	// minutes before the rate-based rule blocks it (10-2000000000).
	// Default 2000.
	RateLimitPer5Minutes int
	// CountOnly lists managed rule groups that only count matches instead
	// of blocking, to roll a group out in count mode first: any of
	// CommonRuleSet, KnownBadInputsRuleSet, AmazonIpReputationList,
	// SQLiRuleSet. Default none.
	CountOnly []string
	// LogRetentionDays keeps the WAF logs (log group aws-waf-logs-...); one
	// of the values CloudWatch Logs accepts. Default 30 in dev, 365 in prod.
	LogRetentionDays int
}

// ManagedRuleGroups are the AWS managed rule groups of the web ACL, by the
// short name CountOnly uses (AWS's name without "AWSManagedRules"), in
// evaluation order, after the rate limit: the Amazon IP reputation list
// (cheap, drops known-bad sources first), the core rule set, known bad
// inputs and SQL injection (the application is backed by PostgreSQL).
var ManagedRuleGroups = []string{"AmazonIpReputationList", "CommonRuleSet", "KnownBadInputsRuleSet", "SQLiRuleSet"}

var (
	certificateArn = regexp.MustCompile(`^arn:aws[a-z-]*:acm:([a-z0-9-]+):([0-9]{12}):certificate/([0-9a-f-]{36})$`)
	httpCodes      = regexp.MustCompile(`^([1-5][0-9]{2})(-[1-5][0-9]{2})?(,([1-5][0-9]{2})(-[1-5][0-9]{2})?)*$`)
	healthPath     = regexp.MustCompile(`^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,999}$`)
)

func (c Config) validateLoadBalancer(v *validator) {
	lb := c.LoadBalancer
	fw := lb.Firewall
	if fw.Enabled {
		v.check(fw.RateLimitPer5Minutes >= 10 && fw.RateLimitPer5Minutes <= 2000000000, "LoadBalancer.Firewall.RateLimitPer5Minutes", fw.RateLimitPer5Minutes,
			"from 10 to 2000000000 requests per IP in five minutes")
		v.check(slices.Contains(RetentionDays, fw.LogRetentionDays), "LoadBalancer.Firewall.LogRetentionDays", fw.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))
	}
	for i, g := range fw.CountOnly {
		field := fmt.Sprintf("LoadBalancer.Firewall.CountOnly[%d]", i)
		v.check(slices.Contains(ManagedRuleGroups, g), field, g, fmt.Sprintf("one of %v", ManagedRuleGroups))
		v.check(!slices.Contains(fw.CountOnly[:i], g), field, g, "each rule group listed once")
	}
	c.validateCertificate(v)
	v.check(!lb.RequireHTTPS || lb.CertificateArn != "", "LoadBalancer.CertificateArn", lb.CertificateArn,
		"a certificate ARN: LoadBalancer.RequireHTTPS is on")
	v.check(healthPath.MatchString(lb.HealthCheckPath), "LoadBalancer.HealthCheckPath", lb.HealthCheckPath, "an absolute URL path such as /healthz")
	v.check(httpCodes.MatchString(lb.HealthyHTTPCodes), "LoadBalancer.HealthyHTTPCodes", lb.HealthyHTTPCodes, `HTTP codes or ranges such as "200" or "200-299,302"`)
	v.check(lb.HealthCheckIntervalSeconds >= 5 && lb.HealthCheckIntervalSeconds <= 300, "LoadBalancer.HealthCheckIntervalSeconds", lb.HealthCheckIntervalSeconds, "from 5 to 300")
	v.check(lb.HealthyThreshold >= 2 && lb.HealthyThreshold <= 10, "LoadBalancer.HealthyThreshold", lb.HealthyThreshold, "from 2 to 10")
	v.check(lb.UnhealthyThreshold >= 2 && lb.UnhealthyThreshold <= 10, "LoadBalancer.UnhealthyThreshold", lb.UnhealthyThreshold, "from 2 to 10")
	v.check(lb.DeregistrationDelaySeconds >= 0 && lb.DeregistrationDelaySeconds <= 3600, "LoadBalancer.DeregistrationDelaySeconds", lb.DeregistrationDelaySeconds, "from 0 to 3600")
	v.check(lb.IdleTimeoutSeconds >= 1 && lb.IdleTimeoutSeconds <= 4000, "LoadBalancer.IdleTimeoutSeconds", lb.IdleTimeoutSeconds, "from 1 to 4000")
	v.check(lb.AccessLogRetentionDays >= 1 && lb.AccessLogRetentionDays <= 3650, "LoadBalancer.AccessLogRetentionDays", lb.AccessLogRetentionDays, "from 1 to 3650")
}

// validateCertificate accepts only a certificate the load balancer of this
// deployment can use: ACM attaches certificates of the listener's own
// account and region, and the prod preset's all-zero placeholder exists in
// no account.
func (c Config) validateCertificate(v *validator) {
	arn := c.LoadBalancer.CertificateArn
	if arn == "" {
		return
	}
	m := certificateArn.FindStringSubmatch(arn)
	switch {
	case m == nil:
		v.add("LoadBalancer.CertificateArn", arn, "empty or an ACM certificate ARN")
	case m[1] != c.Region:
		v.add("LoadBalancer.CertificateArn", arn, fmt.Sprintf("a certificate in the stacks' region %s", c.Region))
	case m[2] != c.Account:
		v.add("LoadBalancer.CertificateArn", arn, fmt.Sprintf("a certificate of the stacks' account %s", c.Account))
	case c.RealAccount() && m[3] == PlaceholderCertificateID:
		v.add("LoadBalancer.CertificateArn", arn, "a real certificate: the all-zero ID is the presets' placeholder")
	}
}
