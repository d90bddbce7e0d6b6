using System.Text.Json.Nodes;
using OpsRobot.Core.Alerts;

namespace OpsRobot.Core.Tests.Alerts;

/// <summary>Reading <c>core.alert</c> payloads (outside data) and the small parsers the alerts pack uses.</summary>
public sealed class AlertEventTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 21, 9, 0, 0, TimeSpan.Zero);

    private static JsonObject Payload(Action<JsonObject>? change = null)
    {
        var payload = new JsonObject
        {
            ["source"] = "alertmanager",
            ["status"] = "firing",
            ["name"] = "DiskFull",
            ["severity"] = "critical",
            ["host"] = "db1:9100",
            ["summary"] = "/ is full",
            ["labels"] = new JsonObject { ["alertname"] = "DiskFull", ["team"] = "db" },
            ["annotations"] = new JsonObject(),
            ["fingerprint"] = "abc123",
            ["url"] = "http://prometheus.example/graph?g0.expr=up",
        };
        change?.Invoke(payload);
        return payload;
    }

    [Fact]
    public void FromPayload_ReadsTheIntakesShape()
    {
        var e = AlertEvent.FromPayload(7, Payload(), At).ShouldNotBeNull();

        e.EventId.ShouldBe(7);
        e.Source.ShouldBe("alertmanager");
        e.Fingerprint.ShouldBe("abc123");
        e.Status.ShouldBe(AlertStatus.Firing);
        e.Labels["team"].ShouldBe("db");
        e.Url.ShouldBe("http://prometheus.example/graph?g0.expr=up");
        e.At.ShouldBe(At);
    }

    // The source's start (or end) of the state, so "firing for" counts from when it began, not from when it arrived.
    [Theory]
    [InlineData("firing", "starts_at", "2026-11-21T08:00:00Z", "2026-11-21T08:00:00Z")]            // an hour before it arrived
    [InlineData("firing", "starts_at", "2026-11-21T10:00:00.123+02:00", "2026-11-21T08:00:00.123Z")] // any offset
    [InlineData("resolved", "ends_at", "2026-11-21T08:59:30Z", "2026-11-21T08:59:30Z")]             // resolved: its end
    [InlineData("resolved", "starts_at", "2026-11-21T08:00:00Z", "2026-11-21T09:00:00Z")]           // resolved reads ends_at only
    [InlineData("firing", "starts_at", "2026-11-21T09:05:00Z", "2026-11-21T09:00:00Z")]             // a clock ahead: when received
    [InlineData("firing", "starts_at", "0001-01-01T00:00:00Z", "2026-11-21T09:00:00Z")]             // Alertmanager's unset time
    [InlineData("firing", "starts_at", "yesterday", "2026-11-21T09:00:00Z")]                        // not a time
    public void FromPayload_StateSince_IsTheSourcesTimeWhenSane(string status, string field, string sent, string expected)
    {
        var e = AlertEvent.FromPayload(1, Payload(p =>
        {
            p["status"] = status;
            p[field] = sent;
        }), At).ShouldNotBeNull();

        e.StateSince.ShouldBe(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture));
        e.At.ShouldBe(At);
    }

    [Fact]
    public void FromPayload_NoSourceTime_StateSinceIsWhenReceived() =>
        AlertEvent.FromPayload(1, Payload(), At).ShouldNotBeNull().StateSince.ShouldBe(At);

    [Theory]
    [InlineData("source")]       // cannot pick a source to call back
    [InlineData("fingerprint")]  // cannot tell one alert from another
    public void FromPayload_WithoutWhatIdentifiesAnAlert_IsNull(string field) =>
        AlertEvent.FromPayload(1, Payload(p => p.Remove(field)), At).ShouldBeNull();

    [Theory]
    [InlineData("javascript:alert(1)")]                 // not http(s)
    [InlineData("http://x.example/a b")]                // whitespace would end the link
    [InlineData("http://x.example/<script>")]           // angle brackets
    [InlineData("http://x.example/\nsecond")]           // a line break
    [InlineData("/relative/path")]                      // not absolute
    public void FromPayload_UnsafeLinks_AreDropped(string url) =>
        AlertEvent.FromPayload(1, Payload(p => p["url"] = url), At).ShouldNotBeNull().Url.ShouldBeNull();

    [Fact]
    public void FromPayload_OversizedFieldsAndTooManyLabels_AreBounded()
    {
        var labels = new JsonObject();
        for (var i = 0; i < 500; i++)
        {
            labels[$"l{i}"] = new string('x', 5000);
        }

        var e = AlertEvent.FromPayload(1, Payload(p =>
        {
            p["summary"] = new string('s', 100_000);
            p["labels"] = labels;
            p["status"] = 42;
        }), At).ShouldNotBeNull();

        e.Summary!.Length.ShouldBe(AlertEvent.MaxFieldChars);
        e.Labels.Count.ShouldBe(64);
        e.Labels.Values.ShouldAllBe(v => v.Length <= AlertEvent.MaxFieldChars);
        e.Status.ShouldBe(AlertStatus.Firing); // anything but "resolved" is firing, as the intake decides
    }

    [Theory]
    [InlineData("web:ops", "web", "ops")]
    [InlineData("IRC:#db", "irc", "#db")]
    [InlineData("slack:C024BE7LH", "slack", "C024BE7LH")]
    public void AlertRoom_Parse_PlatformAndRoom(string text, string platform, string room) =>
        AlertRoom.Parse(text).ShouldBe(new AlertRoom(platform, room));

    [Theory]
    [InlineData("ops")]
    [InlineData(":ops")]
    [InlineData("web:")]
    [InlineData("web:o\nps")]
    [InlineData("")]
    public void AlertRoom_Parse_RefusesWhatIsNotARoom(string text) => AlertRoom.Parse(text).ShouldBeNull();

    [Theory]
    [InlineData(45, "45s")]
    [InlineData(12 * 60, "12m")]
    [InlineData(3 * 3600, "3h")]
    [InlineData(3 * 3600 + 5 * 60, "3h 5m")]
    [InlineData(2 * 86400 + 4 * 3600, "2d 4h")]
    [InlineData(-5, "0s")]
    public void Span_AsPeopleSayIt(int seconds, string expected) => AlertText.Span(TimeSpan.FromSeconds(seconds)).ShouldBe(expected);

    [Theory]
    [InlineData("A12", 12)]
    [InlineData("a7", 7)]
    [InlineData("42", 42)]
    public void TryParseId_AcceptsWhatPeopleType(string text, long id)
    {
        AlertArguments.TryParseId(text, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(id);
    }

    [Theory]
    [InlineData("A0")]
    [InlineData("A-1")]
    [InlineData("AA1")]
    [InlineData("A1x")]
    [InlineData("A99999999999999999999")]
    public void TryParseId_RefusesTheRest(string text) => AlertArguments.TryParseId(text, out _).ShouldBeFalse();
}
