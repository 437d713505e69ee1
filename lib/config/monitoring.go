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
	seen := map[string]bool{}
	for i, e := range m.AlarmEmails {
		field := fmt.Sprintf("Monitoring.AlarmEmails[%d]", i)
		addr, err := mail.ParseAddress(e)
		v.check(err == nil && addr.Address == e && strings.Contains(e[strings.LastIndex(e, "@")+1:], "."), field, e, "a plain e-mail address such as oncall@example.com")
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
