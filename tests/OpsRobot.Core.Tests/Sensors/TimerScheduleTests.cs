using System.Text.Json.Nodes;
using OpsRobot.Core.Events;
using OpsRobot.Core.Sensors;

namespace OpsRobot.Core.Tests.Sensors;

public sealed class TimerScheduleTests
{
    private static readonly DateTimeOffset Anchor = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    private static ITimerSchedule Create(string type, string parameters)
    {
        var schedule = TimerSchedules.TryCreate(type, (JsonObject)JsonNode.Parse(parameters)!, Anchor, out var error);
        error.ShouldBeNull();
        return schedule.ShouldNotBeNull();
    }

    private static string? Error(string type, string parameters)
    {
        TimerSchedules.TryCreate(type, (JsonObject)JsonNode.Parse(parameters)!, Anchor, out var error).ShouldBeNull();
        return error;
    }

    [Theory]
    [InlineData("seconds", 30, "2026-11-21T09:00:00Z", "2026-11-21T09:00:30Z", "first period after the anchor")]
    [InlineData("seconds", 30, "2026-11-21T09:00:30Z", "2026-11-21T09:01:00Z", "strictly after")]
    [InlineData("minutes", 5, "2026-11-21T09:12:00Z", "2026-11-21T09:15:00Z", "keeps the anchor's rhythm")]
    [InlineData("hours", 2, "2026-11-21T08:00:00Z", "2026-11-21T11:00:00Z", "before the anchor: anchor plus one period")]
    [InlineData("weeks", 1, "2026-11-21T09:00:00Z", "2026-11-28T09:00:00Z", "weeks")]
    public void Interval_NextAfter(string unit, int delta, string after, string expected, string why) =>
        Create(BuiltInTriggers.IntervalTimer, $$"""{"unit": "{{unit}}", "delta": {{delta}}}""").NextAfter(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), why);

    [Theory]
    [InlineData("""{"expression": "0 9 * * mon-fri"}""", "2026-11-21T09:00:00Z", "2026-11-23T09:00:00Z", "Saturday: next is Monday, UTC")]
    [InlineData("""{"expression": "30 * * * * *"}""", "2026-11-21T09:00:00Z", "2026-11-21T09:00:30Z", "six fields: seconds first")]
    [InlineData("""{"expression": "0 9 * * *", "timezone": "Europe/Paris"}""", "2026-11-21T00:00:00Z", "2026-11-21T08:00:00Z", "nine in Paris in winter is eight UTC")]
    [InlineData("""{"expression": "0 9 * * *", "timezone": "Europe/Paris"}""", "2026-07-01T00:00:00Z", "2026-07-01T07:00:00Z", "nine in Paris in summer is seven UTC")]
    [InlineData("""{"expression": "30 2 * * *", "timezone": "Europe/Paris"}""", "2026-03-28T12:00:00Z", "2026-03-30T00:30:00Z", "02:30 does not exist on the spring-forward day: skipped")]
    [InlineData("""{"expression": "30 2 * * *", "timezone": "Europe/Paris"}""", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z", "02:30 happens twice on the fall-back day: the first")]
    [InlineData("""{"expression": "30 2 * * *", "timezone": "Europe/Paris"}""", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z", "and not again an hour later")]
    [InlineData("""{"minute": 15, "hour": "*/6"}""", "2026-11-21T09:00:00Z", "2026-11-21T12:15:00Z", "StackStorm's field form")]
    [InlineData("""{"hour": 8, "minute": 0, "day_of_week": 0}""", "2026-11-21T09:00:00Z", "2026-11-23T08:00:00Z", "APScheduler's day 0 is Monday")]
    [InlineData("""{"hour": 8, "minute": 0, "day_of_week": "5-6"}""", "2026-11-21T09:00:00Z", "2026-11-22T08:00:00Z", "5-6 is Saturday-Sunday")]
    public void Cron_NextAfter(string parameters, string after, string expected, string why) =>
        Create(BuiltInTriggers.CronTimer, parameters).NextAfter(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture))
            .ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), why);

    [Theory]
    [InlineData("""{"date": "2026-12-24T18:00:00"}""", "2026-12-24T18:00:00Z", "no offset: UTC")]
    [InlineData("""{"date": "2026-12-24T18:00:00", "timezone": "America/New_York"}""", "2026-12-24T23:00:00Z", "in its time zone")]
    [InlineData("""{"date": "2026-12-24T18:00:00+01:00", "timezone": "America/New_York"}""", "2026-12-24T17:00:00Z", "an explicit offset wins")]
    public void Date_FiresOnceAtItsTime(string parameters, string at, string why)
    {
        var schedule = Create(BuiltInTriggers.DateTimer, parameters);
        var expected = DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture);

        schedule.NextAfter(Anchor).ShouldBe(expected, why);
        schedule.NextAfter(expected).ShouldBeNull();
    }

    [Theory]
    [InlineData(BuiltInTriggers.IntervalTimer, """{"unit": "fortnights", "delta": 1}""", "not one of")]
    [InlineData(BuiltInTriggers.IntervalTimer, """{"unit": "seconds", "delta": 0}""", "from 1")]
    [InlineData(BuiltInTriggers.CronTimer, """{"expression": "61 * * * *"}""", "does not parse")]
    [InlineData(BuiltInTriggers.CronTimer, """{"expression": "* * *"}""", "has 3 fields")]
    [InlineData(BuiltInTriggers.CronTimer, """{"expression": "0 9 * * *", "timezone": "Mars/Olympus"}""", "time zone 'Mars/Olympus' is unknown")]
    [InlineData(BuiltInTriggers.DateTimer, """{"date": "someday"}""", "not a date")]
    public void Invalid_SaysWhy(string type, string parameters, string message) => Error(type, parameters).ShouldNotBeNull().ShouldContain(message);
}
