using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Text;

namespace OpsRobot.Cli.Client;

/// <summary>
/// <c>opsrobot kv get|set|list|delete</c>: the datastore through a running server's API, so the server's access
/// policy applies. KEY is <c>system.NAME</c>, or <c>NAME</c> (or <c>user.NAME</c>) for your own keys. A secret is
/// read from standard input when VALUE is <c>-</c>, so it never shows in the shell's history or the process list.
/// </summary>
internal static class KvVerbs
{
    public static void Add(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var url = new Option<string?>("--url") { Description = $"The OpsRobot server (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})", HelpName = "URL" };
        var key = new Argument<string>("KEY") { Description = "system.NAME, or NAME for your own keys" };

        var get = new Command("get", "Print a key's value (a secret prints masked). Exit 1 when there is no such key.") { key, url };
        get.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var (scope, name) = Split(r.GetValue(key)!);
            var answer = await client.GetAsync($"/api/v1/kv/{scope}/{Uri.EscapeDataString(name)}", token);
            Console.Out.WriteLine(answer.GetProperty("value").GetString());
            return ExitCodes.Succeeded;
        }, ct));

        var value = new Argument<string>("VALUE") { Description = "The value; - reads it from standard input (use this for secrets)" };
        var secret = new Option<bool>("--secret") { Description = "Encrypt it at rest and never show it again" };
        var ttl = new Option<string?>("--ttl") { Description = "Delete it after this long: 90s, 30m, 1h30m, 7d", HelpName = "DURATION" };
        var set = new Command("set", "Create or replace a key.") { key, value, secret, ttl, url };
        set.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var (scope, name) = Split(r.GetValue(key)!);
            var text = r.GetValue(value)!;
            if (text == "-")
            {
                text = (await Console.In.ReadLineAsync(token)) ?? string.Empty;
            }

            long? seconds = null;
            if (r.GetValue(ttl) is { } t)
            {
                seconds = (long)(DurationText.Parse(t) ?? throw new ClientUsageException(DurationText.NotADuration(t))).TotalSeconds;
            }

            var answer = await client.SendAsync(HttpMethod.Put, $"/api/v1/kv/{scope}/{Uri.EscapeDataString(name)}",
                new JsonObject { ["value"] = text, ["secret"] = r.GetValue(secret), ["ttlSeconds"] = seconds }, token);
            await Console.Error.WriteLineAsync($"Set {scope}.{name} = {answer.GetProperty("value").GetString()}");
            return ExitCodes.Succeeded;
        }, ct));

        var scopeArg = new Argument<string>("SCOPE") { Description = "system, or user (your own keys)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "user" };
        scopeArg.AcceptOnlyFromAmong("system", "user");
        var prefix = new Option<string?>("--prefix") { Description = "Only keys whose name starts with this", HelpName = "TEXT" };
        var json = new Option<bool>("--json") { Description = "Print the keys as JSON" };
        var list = new Command("list", "List keys by name; secrets masked.") { scopeArg, prefix, json, url };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var path = $"/api/v1/kv/{r.GetValue(scopeArg)}" + (r.GetValue(prefix) is { } p ? "?prefix=" + Uri.EscapeDataString(p) : string.Empty);
            var answer = await client.GetAsync(path, token);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(answer.GetProperty("keys").GetRawText());
                return ExitCodes.Succeeded;
            }

            foreach (var k in answer.GetProperty("keys").EnumerateArray())
            {
                var expires = k.GetProperty("expiresAt").ValueKind == JsonValueKind.Null ? string.Empty
                    : "  (expires " + k.GetProperty("expiresAt").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture) + ")";
                Console.Out.WriteLine($"{k.GetProperty("scope").GetString()}.{k.GetProperty("name").GetString()} = {k.GetProperty("value").GetString()}{expires}");
            }

            return ExitCodes.Succeeded;
        }, ct));

        var delete = new Command("delete", "Delete a key. Exit 1 when there is no such key.") { key, url };
        delete.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var (scope, name) = Split(r.GetValue(key)!);
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/kv/{scope}/{Uri.EscapeDataString(name)}", null, token);
            await Console.Error.WriteLineAsync($"Deleted {scope}.{name}.");
            return ExitCodes.Succeeded;
        }, ct));

        root.Subcommands.Add(new Command("kv", "Read and change the datastore on the server (exit 0 done, 1 no such key or failed, 2 refused, 3 no server).")
        {
            get, set, list, delete,
        });
    }

    private static (string Scope, string Name) Split(string key) =>
        key.StartsWith("system.", StringComparison.Ordinal) ? ("system", key[7..])
        : key.StartsWith("user.", StringComparison.Ordinal) ? ("user", key[5..])
        : ("user", key);
}
