package config

import (
	"fmt"
	"net/mail"
	"reflect"
	"slices"
	"strings"
)

func (c Config) validateMonitoring(v *validator) {
	m := c.Monitoring
	const hint = " (set them with -c alarmEmails=a@your.org,b@your.org)"
	v.check(!m.RequireAlarmDestination || len(m.AlarmEmails) > 0, "Monitoring.AlarmEmails", m.AlarmEmails,
		"at least one address: Monitoring.RequireAlarmDestination is on, so alarms must reach someone"+hint)
	seen := map[string]bool{}
	for i, e := range m.AlarmEmails {
		field := fmt.Sprintf("Monitoring.AlarmEmails[%d]", i)
		addr, err := mail.ParseAddress(e)
		domain := strings.ToLower(e[strings.LastIndex(e, "@")+1:])
		v.check(err == nil && addr.Address == e && strings.Contains(domain, "."), field, e, "a plain e-mail address such as oncall@example.com")
		v.check(!c.RealAccount() || !placeholderDomain(domain), field, e,
			"a real address: example domains (RFC 2606) are placeholders that nobody reads"+hint)
		v.check(!seen[e], field, e, "each address listed once")
		seen[e] = true
	}
	v.check(slices.Contains(RetentionDays, m.FunctionLogRetentionDays), "Monitoring.FunctionLogRetentionDays", m.FunctionLogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))

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
