package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

// How Argo CD (util/lua, v3) runs a resource.customizations.health script from argocd-cm, rebuilt
// on the same interpreter (gopher-lua) and JSON codec (layeh.com/gopher-json) that Argo CD links:
//
//   - a state without the standard libraries (custom scripts run with useOpenLibs=false unless the
//     argocd-cm key resource.customizations.useOpenLibs.<group_kind> says otherwise), then only
//     package, base and table are opened, plus Argo CD's "safe os" opener, which registers its
//     functions under the *table* module name and so adds nothing; `require("os")` is the one way
//     to reach os.time/os.date. No string, math, io, os, debug or coroutine library.
//   - a 1 second execution deadline;
//   - a global `actionParams` (empty for health) and the live object as global `obj`, decoded
//     value by value (integers and floats become Lua numbers, json.Number a string, maps and
//     slices tables);
//   - the returned value: a table is encoded to JSON and read as {status, message}; an empty table
//     or nil is an empty health status; a status outside Argo CD's six codes becomes Unknown with
//     "Lua returned an invalid health status"; anything else is an error.
//
// Argo CD shows a script error as health status Unknown with the error text; the caller sees it
// in result.Error.
const (
	scriptDeadline      = time.Second
	invalidHealthStatus = "Lua returned an invalid health status"
)

var argoHealthCodes = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

func argocdJudge(scriptFile string) (func(*unstructured.Unstructured) result, error) {
	if scriptFile == "" {
		return nil, errors.New("argocd needs --script")
	}
	script, err := os.ReadFile(scriptFile)
	if err != nil {
		return nil, err
	}
	return func(obj *unstructured.Unstructured) result {
		res, err := argocdHealth(obj.Object, string(script))
		if err != nil {
			return result{Error: err.Error()}
		}
		return res
	}, nil
}

func argocdHealth(obj map[string]any, script string) (result, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openSafeOsUnderTableName},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return result{}, err
		}
	}
	l.PreloadModule(lua.OsLibName, func(l *lua.LState) int {
		l.Push(l.SetFuncs(l.NewTable(), safeOsFuncs))
		return 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), scriptDeadline)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", toLua(l, obj))

	fn, err := l.LoadString(script)
	if err == nil {
		l.Push(fn)
		err = l.PCall(0, lua.MultRet, nil)
	}
	if err != nil {
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type == lua.ApiErrorRun {
			apiErr.StackTrace = ""
		}
		return result{}, err
	}

	returned := l.Get(-1)
	switch returned.Type() {
	case lua.LTNil:
		return result{}, nil
	case lua.LTTable:
	default:
		return result{}, fmt.Errorf("expect table output from Lua script, not %s", returned.Type().String())
	}
	encoded, err := luajson.Encode(returned)
	if err != nil {
		return result{}, err
	}
	var health struct {
		Status  string `json:"status,omitempty"`
		Message string `json:"message,omitempty"`
	}
	if err := json.Unmarshal(encoded, &health); err != nil {
		// An empty Lua table encodes as [], which Argo CD reads as an empty health status.
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Value == "array" && typeErr.Type == reflect.TypeOf(health) {
			return result{}, nil
		}
		return result{}, err
	}
	if !argoHealthCodes[health.Status] {
		return result{Status: "Unknown", Message: invalidHealthStatus}, nil
	}
	return result{Status: health.Status, Message: health.Message}, nil
}

// toLua is Argo CD's object decoding: value by value, unknown types become nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case []any:
		arr := l.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(toLua(l, item))
		}
		return arr
	case map[string]any:
		tbl := l.CreateTable(0, len(v))
		for key, item := range v {
			tbl.RawSetH(lua.LString(key), toLua(l, item))
		}
		return tbl
	}
	return lua.LNil
}

// openSafeOsUnderTableName reproduces Argo CD's safe-os opener, which registers os.time/os.date
// under the table library's module name: the table module is already loaded, so nothing is added.
func openSafeOsUnderTableName(l *lua.LState) int {
	l.Push(l.RegisterModule(lua.TabLibName, safeOsFuncs))
	return 1
}

var safeOsFuncs = map[string]lua.LGFunction{"time": osTime, "date": osDate}

func osTime(l *lua.LState) int {
	if l.GetTop() == 0 {
		l.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	tbl := l.CheckTable(1)
	field := func(name string, fallback int) int {
		if n, ok := tbl.RawGetString(name).(lua.LNumber); ok {
			return int(n)
		}
		return fallback
	}
	t := time.Date(field("year", -1), time.Month(field("month", -1)), field("day", -1),
		field("hour", 12), field("min", 0), field("sec", 0), 0, time.Local)
	l.Push(lua.LNumber(t.Unix()))
	return 1
}

// osDate supports the strftime flags Argo CD's safe os maps to Go layouts.
func osDate(l *lua.LState) int {
	t := time.Now()
	format := "%c"
	if l.GetTop() >= 1 {
		format = l.CheckString(1)
		if strings.HasPrefix(format, "!") {
			t = t.UTC()
			format = strings.TrimLeft(format, "!")
		}
		if l.GetTop() >= 2 {
			t = time.Unix(l.CheckInt64(2), 0)
		}
		if strings.HasPrefix(format, "*t") {
			tbl := l.NewTable()
			for name, value := range map[string]int{"year": t.Year(), "month": int(t.Month()), "day": t.Day(),
				"hour": t.Hour(), "min": t.Minute(), "sec": t.Second(), "wday": int(t.Weekday()) + 1, "yday": 0} {
				tbl.RawSetString(name, lua.LNumber(value))
			}
			tbl.RawSetString("isdst", lua.LFalse)
			l.Push(tbl)
			return 1
		}
	}
	layouts := map[byte]string{'a': "mon", 'A': "Monday", 'b': "Jan", 'B': "January", 'c': "02 Jan 06 15:04 MST",
		'd': "02", 'F': "2006-01-02", 'H': "15", 'I': "03", 'm': "01", 'M': "04", 'p': "PM", 'P': "pm", 'S': "05",
		'x': "15/04/05", 'X': "15:04:05", 'y': "06", 'Y': "2006", 'z': "-0700", 'Z': "MST"}
	var out strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i == len(format)-1 {
			out.WriteByte(c)
			continue
		}
		i++
		switch flag := format[i]; {
		case flag == '%':
			out.WriteByte('%')
		case flag == 'w':
			fmt.Fprint(&out, int(t.Weekday()))
		case layouts[flag] != "":
			out.WriteString(t.Format(layouts[flag]))
		default:
			out.WriteByte('%')
			out.WriteByte(flag)
		}
	}
	l.Push(lua.LString(out.String()))
	return 1
}
