using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using NCrontab;
using OpsRobot.Core.Events;

namespace OpsRobot.Core.Sensors;

/// <summary>When a timer fires next.</summary>
public interface ITimerSchedule
{
    /// <summary>The first firing strictly after <paramref name="after"/>, or null when it will not fire again.</summary>
    DateTimeOffset? NextAfter(DateTimeOffset after);
}

/// <summary>Every <c>delta</c> <c>unit</c>s, counted from an anchor (when the timer was registered), as StackStorm's IntervalTimer.</summary>
public sealed class IntervalSchedule(TimeSpan every, DateTimeOffset anchor) : ITimerSchedule
{
    public TimeSpan Every { get; } = every > TimeSpan.Zero ? every : throw new ArgumentOutOfRangeException(nameof(every), "An interval must be positive.");

    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        if (after < anchor)
        {
            return anchor + Every;
        }

        var periods = ((after - anchor).Ticks / Every.Ticks) + 1;
        return anchor + TimeSpan.FromTicks(periods * Every.Ticks);
    }
}

/// <summary>
/// A cron schedule read in a time zone: the fields are matched against the zone's wall clock, so "0 9 * * mon-fri"
/// in Europe/Paris fires at nine Paris time in summer and winter alike. A wall-clock time skipped by a daylight
/// saving change does not fire that day; one that occurs twice fires once, at its first occurrence.
/// </summary>
public sealed class CronSchedule : ITimerSchedule
{
    private readonly CrontabSchedule _schedule;

    private CronSchedule(CrontabSchedule schedule, TimeZoneInfo zone)
    {
        _schedule = schedule;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses a crontab line (5 fields, or 6 with seconds first); null with the reason when it does not parse.</summary>
    public static CronSchedule? TryCreate(string expression, TimeZoneInfo zone, out string? error)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(zone);
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6))
        {
            error = $"cron expression '{expression}' has {fields} fields; write 5 (minute hour day month day-of-week) or 6 (with seconds first)";
            return null;
        }

        var schedule = CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
        if (schedule is null)
        {
            error = $"cron expression '{expression}' does not parse";
            return null;
        }

        error = null;
        return new CronSchedule(schedule, zone);
    }

    public DateTimeOffset? NextAfter(DateTimeOffset after)
    {
        // Search on the zone's wall clock from a little before 'after' (a fall-back hour repeats wall times), and
        // return the first candidate whose real instant is after 'after'.
        var wall = TimeZoneInfo.ConvertTime(after, Zone).DateTime.AddHours(-3);
        for (var i = 0; i < 10_000; i++)
        {
            var candidate = _schedule.GetNextOccurrence(wall, DateTime.MaxValue.AddYears(-1));
            if (candidate >= DateTime.MaxValue.AddYears(-1))
            {
                return null;
            }

            wall = candidate;
            if (Zone.IsInvalidTime(candidate))
            {
                continue;
            }

            var offset = Zone.IsAmbiguousTime(candidate)
                ? Zone.GetAmbiguousTimeOffsets(candidate).Max()
                : Zone.GetUtcOffset(candidate);
            var instant = new DateTimeOffset(candidate, offset);
            if (instant > after)
            {
                return instant.ToUniversalTime();
            }
        }

        return null;
    }
}

/// <summary>Once, at a date and time.</summary>
public sealed class DateSchedule(DateTimeOffset at) : ITimerSchedule
{
    public DateTimeOffset At { get; } = at;

    public DateTimeOffset? NextAfter(DateTimeOffset after) => At > after ? At : null;
}

/// <summary>Builds timers from a rule's trigger parameters, with messages that say what is wrong for a pack author.</summary>
public static class TimerSchedules
{
    /// <summary>Whether the trigger type is one of the timers.</summary>
    public static bool IsTimer(string triggerType) =>
        triggerType is BuiltInTriggers.IntervalTimer or BuiltInTriggers.CronTimer or BuiltInTriggers.DateTimer;

    /// <summary>The schedule for a timer trigger, or null and the reason.</summary>
    public static ITimerSchedule? TryCreate(string triggerType, JsonObject parameters, DateTimeOffset anchor, out string? error)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        error = null;
        switch (triggerType)
        {
            case BuiltInTriggers.IntervalTimer:
                var unit = Text(parameters["unit"]);
                var delta = parameters["delta"] is JsonValue dv && dv.TryGetValue<long>(out var d) ? d : 0;
                TimeSpan? one = unit switch
                {
                    "weeks" => TimeSpan.FromDays(7),
                    "days" => TimeSpan.FromDays(1),
                    "hours" => TimeSpan.FromHours(1),
                    "minutes" => TimeSpan.FromMinutes(1),
                    "seconds" => TimeSpan.FromSeconds(1),
                    _ => null,
                };
                if (one is null)
                {
                    error = $"interval unit '{unit}' is not one of weeks, days, hours, minutes, seconds";
                    return null;
                }

                if (delta is < 1 or > 1_000_000)
                {
                    error = "interval delta must be a whole number from 1 to 1000000";
                    return null;
                }

                return new IntervalSchedule(one.Value * delta, anchor);
            case BuiltInTriggers.CronTimer:
                if (Zone(parameters, out error) is not { } zone)
                {
                    return null;
                }

                var expression = Text(parameters["expression"]) ?? FromFields(parameters);
                return CronSchedule.TryCreate(expression, zone, out error);
            case BuiltInTriggers.DateTimer:
                if (Zone(parameters, out error) is not { } dateZone)
                {
                    return null;
                }

                var text = Text(parameters["date"]) ?? string.Empty;
                if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out var local)
                    && !DateTime.TryParseExact(text, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None, out local))
                {
                    error = $"date '{text}' is not a date and time; write e.g. 2026-12-24T18:00:00";
                    return null;
                }

                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset) && HasOffset(text))
                {
                    return new DateSchedule(withOffset.ToUniversalTime());
                }

                var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
                return new DateSchedule(new DateTimeOffset(unspecified, dateZone.GetUtcOffset(unspecified)).ToUniversalTime());
            default:
                error = $"{triggerType} is not a timer";
                return null;
        }
    }

    private static bool HasOffset(string text) =>
        text.EndsWith('Z') || text.EndsWith('z') || (text.Length > 6 && (text[^6] is '+' or '-') && text[^3] == ':');

    private static TimeZoneInfo? Zone(JsonObject parameters, out string? error)
    {
        error = null;
        var name = Text(parameters["timezone"]);
        if (name is null or "UTC" or "utc")
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"time zone '{name}' is unknown; use an IANA name such as Europe/Paris or America/New_York";
            return null;
        }
    }

    /// <summary>
    /// StackStorm's (APScheduler's) field form: second, minute, hour, day, month, day_of_week; unset fields are
    /// '*' except second, which is 0. APScheduler numbers weekdays from Monday = 0, cron from Sunday = 0, so numeric
    /// weekdays are written as names.
    /// </summary>
    private static string FromFields(JsonObject p)
    {
        string Field(string name, string fallback) => p[name] switch
        {
            null => fallback,
            JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
            var n => Text(n) ?? fallback,
        };

        var dow = Field("day_of_week", "*");
        string[] names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        dow = System.Text.RegularExpressions.Regex.Replace(dow, @"(?<![/\d])[0-6](?!\d)", m => names[m.Value[0] - '0'], System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(100));
        return $"{Field("second", "0")} {Field("minute", "*")} {Field("hour", "*")} {Field("day", "*")} {Field("month", "*")} {dow}";
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
