package wechatsim

// The reminder template the simulator's app has by default, and the run
// command configures for it when MINIBACK_SUBSCRIBE_TEMPLATES is empty:
// thing1 the task's title, time2 its due time, thing3 its notes.
const (
	DefaultReminderTemplateID = "wechatsim-reminder-0001"
	DefaultReminderPage       = "pages/task/task?id={id}"
)

// DefaultReminderFields are the default reminder template's keys.
var DefaultReminderFields = []string{"thing1", "time2", "thing3"}
