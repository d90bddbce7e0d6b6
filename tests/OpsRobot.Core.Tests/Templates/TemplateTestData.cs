using System.Text.Json.Nodes;
using OpsRobot.Core.Templates;

namespace OpsRobot.Core.Tests.Templates;

/// <summary>A renderer with default options and a context shaped like what aliases, rules and runners pass.</summary>
internal static class TemplateTestData
{
    public static readonly TemplateRenderer Renderer = new();

    /// <summary>
    /// A fresh context per call: a parsed JsonObject materialises lazily on first read, which is not safe across
    /// threads, and tests run in parallel.
    /// </summary>
    public static JsonObject Context() => JsonNode.Parse(
        """
        {
          "app": "web", "env": "prod", "count": 3, "ratio": 1.5, "flag": true, "off": false,
          "nothing": null, "empty": "", "xs": [1, 2, 3], "names": ["b", "C", "a"], "d": {"a": 1, "b": 2},
          "execution": {
            "id": "5f3a9c0e",
            "result": {
              "stdout": "done",
              "hosts": [{"name": "web1", "status": "up"}, {"name": "web2", "status": "down"}]
            }
          },
          "users": [
            {"name": "ann", "age": 31, "admin": true},
            {"name": "bob", "age": 25, "admin": false},
            {"name": "cy", "age": 40}
          ]
        }
        """)!.AsObject();

    public static string Render(string template) => Renderer.Render(template, Context());

    public static TemplateException RenderError(string template) =>
        Should.Throw<TemplateException>(() => Renderer.Render(template, Context()));
}
