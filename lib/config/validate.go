package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// FieldError reports one invalid field: its name, the value given, what is
// allowed and, once Load has attributed it, where the value came from.
type FieldError struct {
	Field   string
	Value   any
	Allowed string
	// Source is the file that set the value, or "-c KEY" for the command
	// line; "" for a value of the preset, which Preset then explains.
	Source, Preset string
}

func (e *FieldError) Error() string {
	switch {
	case strings.HasPrefix(e.Source, "-c "):
		return fmt.Sprintf("%s (%s): got %v, want %s", e.Source, e.Field, format(e.Value), e.Allowed)
	case e.Source != "":
		return fmt.Sprintf("%s: %s: got %v, want %s", e.Source, e.Field, format(e.Value), e.Allowed)
	case e.Preset != "":
		return fmt.Sprintf("%s: got %v, want %s (%s)", e.Field, format(e.Value), e.Allowed, e.Preset)
	}
	return fmt.Sprintf("%s: got %v, want %s", e.Field, format(e.Value), e.Allowed)
}

func format(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case []string:
		return fmt.Sprintf("%q", v)
	default:
		return fmt.Sprint(v)
	}
}

var (
	appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{1,19}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`)
	envPattern     = regexp.MustCompile(`^[a-z][a-z0-9]{1,9}$`)
	dailyWindow    = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$`)
	weeklyWindow   = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])$`)
)

// RetentionDays lists the retention periods CloudWatch Logs accepts.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Validate checks every field and returns all problems joined, or nil. Each
// layer's section is checked in the file that declares it.
func (c Config) Validate() error {
	v := &validator{}
	c.validate(v)
	return v.err()
}

func (c Config) validate(v *validator) {
	v.check(envPattern.MatchString(c.Environment), "Environment", c.Environment, "2-10 lowercase letters or digits, starting with a letter")
	v.check(appNamePattern.MatchString(c.AppName), "AppName", c.AppName, "2-20 lowercase letters, digits or hyphens, starting with a letter")
	v.check(accountPattern.MatchString(c.Account), "Account", c.Account, "a 12-digit AWS account ID")
	v.check(regionPattern.MatchString(c.Region), "Region", c.Region, "an AWS region name such as eu-west-1")
	c.validateZones(v)
	c.validateNetwork(v)
	c.validateService(v)
	c.validateCluster(v)
	c.validateDatabase(v)
	c.validateCache(v)
	c.validateRegistry(v)
	c.validateLoadBalancer(v)
	c.validateMonitoring(v)
	c.validateCapacity(v)
	c.keepPromises(v)
}

func (c Config) validateZones(v *validator) {
	azs := c.AvailabilityZones
	v.check(len(azs) >= 2 && len(azs) <= 3, "AvailabilityZones", azs, "2 or 3 availability zones")
	seen := map[string]bool{}
	for i, az := range azs {
		field := fmt.Sprintf("AvailabilityZones[%d]", i)
		v.check(len(az) == len(c.Region)+1 && strings.HasPrefix(az, c.Region) && az[len(az)-1] >= 'a' && az[len(az)-1] <= 'f',
			field, az, fmt.Sprintf("a zone of region %s such as %sa", c.Region, c.Region))
		v.check(!seen[az], field, az, "each zone listed once")
		seen[az] = true
	}
}

type validator struct{ errs []error }

func (v *validator) add(field string, value any, allowed string) {
	v.errs = append(v.errs, &FieldError{Field: field, Value: value, Allowed: allowed})
}

func (v *validator) check(ok bool, field string, value any, allowed string) {
	if !ok {
		v.add(field, value, allowed)
	}
}

func (v *validator) err() error { return errors.Join(v.errs...) }

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

// window is a span of minutes [start, end); end may pass the period's end
// when the window wraps around midnight or the end of the week.
type window struct{ start, end int }

func parseDaily(v *validator, field, s string, minMinutes int) (window, bool) {
	m := dailyWindow.FindStringSubmatch(s)
	if m == nil {
		v.add(field, s, "a daily UTC window hh:mm-hh:mm such as 02:00-03:00")
		return window{}, false
	}
	w := window{atoi(m[1])*60 + atoi(m[2]), atoi(m[3])*60 + atoi(m[4])}
	if w.end <= w.start {
		w.end += minutesPerDay
	}
	if w.end-w.start < minMinutes {
		v.add(field, s, fmt.Sprintf("a window of at least %d minutes", minMinutes))
		return window{}, false
	}
	return w, true
}

func parseWeekly(v *validator, field, s string, minMinutes int) (window, bool) {
	m := weeklyWindow.FindStringSubmatch(s)
	if m == nil {
		v.add(field, s, "a weekly UTC window ddd:hh:mm-ddd:hh:mm such as sun:03:30-sun:04:30")
		return window{}, false
	}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	w := window{
		slices.Index(days, m[1])*minutesPerDay + atoi(m[2])*60 + atoi(m[3]),
		slices.Index(days, m[4])*minutesPerDay + atoi(m[5])*60 + atoi(m[6]),
	}
	if w.end <= w.start {
		w.end += minutesPerWeek
	}
	if w.end-w.start < minMinutes || w.end-w.start > minutesPerDay {
		v.add(field, s, fmt.Sprintf("a window from %d minutes to 24 hours long", minMinutes))
		return window{}, false
	}
	return w, true
}

// dailyOverlapsWeekly reports whether the daily window, repeated on every day
// of the week, meets the weekly window.
func dailyOverlapsWeekly(daily, weekly window) bool {
	for day := -1; day <= 7; day++ {
		s, e := daily.start+day*minutesPerDay, daily.end+day*minutesPerDay
		for _, shift := range []int{0, minutesPerWeek} {
			if s < weekly.end-shift && weekly.start-shift < e {
				return true
			}
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
