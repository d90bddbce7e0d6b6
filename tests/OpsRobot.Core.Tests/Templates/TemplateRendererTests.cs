using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>The renderer as a service: compiled once and cached (bounded), safe to share between threads.</summary>
public sealed class TemplateRendererTests
{
    [Fact]
    public void Render_SameSourceManyTimes_CompilesItOnce()
    {
        var renderer = new TemplateRenderer();

        for (var i = 0; i < 100; i++)
        {
            renderer.Render("{{ n }}", new JsonObject { ["n"] = i }).ShouldBe(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        renderer.CachedCount.ShouldBe(1);
    }

    [Fact]
    public void Render_ManyDistinctSources_KeepsTheCacheBounded()
    {
        var renderer = new TemplateRenderer(new TemplateOptions { MaxCacheEntries = 16 });

        for (var i = 0; i < 500; i++)
        {
            renderer.Render("{{ n }} #" + i, new JsonObject { ["n"] = 1 }).ShouldBe("1 #" + i);
        }

        renderer.CachedCount.ShouldBeLessThanOrEqualTo(16);
        renderer.CachedCount.ShouldBeGreaterThan(0);
    }

    [Fact]
    public void Render_CacheDisabled_StillRenders()
    {
        var renderer = new TemplateRenderer(new TemplateOptions { MaxCacheEntries = 0 });

        renderer.Render("{{ 1 + 1 }}", new JsonObject()).ShouldBe("2");
        renderer.CachedCount.ShouldBe(0);
    }

    [Fact]
    public void Check_InvalidSource_IsCachedAndReportedEveryTime()
    {
        var renderer = new TemplateRenderer();

        renderer.Check("{{ x + }}").ShouldNotBeNull();
        renderer.Check("{{ x + }}")!.Column.ShouldBe(8);
        renderer.CachedCount.ShouldBe(1);
    }

    [Fact]
    public async Task Render_SharedTemplateOnManyThreads_GivesEachCallerItsOwnResult()
    {
        var renderer = new TemplateRenderer();
        const string template = "{% for h in hosts %}{{ loop.index }}:{{ h.name | upper }}{% if not loop.last %},{% endif %}{% endfor %} ({{ id }})";
        var failures = new ConcurrentBag<string>();

        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                var id = worker * 100_000 + i;
                var context = new JsonObject
                {
                    ["id"] = id,
                    ["hosts"] = new JsonArray(new JsonObject { ["name"] = "a" + id }, new JsonObject { ["name"] = "b" + id }),
                };
                var text = renderer.Render(template, context);
                var expected = $"1:A{id},2:B{id} ({id})";
                if (text != expected)
                {
                    failures.Add($"{text} != {expected}");
                }
            }
        }));
        await Task.WhenAll(workers);

        failures.ShouldBeEmpty();
        renderer.CachedCount.ShouldBe(1);
    }

    [Fact]
    public async Task Render_ManyThreadsCompilingAtOnce_AgreeOnTheResult()
    {
        var renderer = new TemplateRenderer(new TemplateOptions { MaxCacheEntries = 8 });

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() =>
            renderer.Render("{{ x * " + (i % 20) + " }}", new JsonObject { ["x"] = 2 }))));

        results.Select((text, i) => text == (2 * (i % 20)).ToString(System.Globalization.CultureInfo.InvariantCulture)).ShouldAllBe(ok => ok);
        renderer.CachedCount.ShouldBeLessThanOrEqualTo(8);
    }

    [Fact]
    public void Render_NullArguments_AreRefused()
    {
        var renderer = new TemplateRenderer();

        Should.Throw<ArgumentNullException>(() => renderer.Render(null!, new JsonObject()));
        Should.Throw<ArgumentNullException>(() => renderer.Render("x", null!));
        Should.Throw<ArgumentNullException>(() => renderer.Evaluate(null!, new JsonObject()));
        Should.Throw<ArgumentNullException>(() => renderer.Check(null!));
    }
}
