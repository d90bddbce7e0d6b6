using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsRobot.Cli.Client;

/// <summary>
/// <c>opsrobot host list|show|set|delete|history|import|export</c>: the CMDB through a running server's API, so
/// the caller sees and changes only the hosts their application-tree rights allow.
/// </summary>
internal static class HostVerbs
{
    public static void Add(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var url = new Option<string?>("--url") { Description = $"The OpsRobot server (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})", HelpName = "URL" };
        var name = new Argument<string>("HOSTNAME") { Description = "The host's name" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };

        var filters = new Argument<string[]>("FILTER") { Description = "app=NODE env=ENV status=STATUS tag=TAG owner=OWNER name=PATTERN", Arity = ArgumentArity.ZeroOrMore };
        var list = new Command("list", "List the hosts you may see, filtered.") { filters, json, url };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var query = new List<string>();
            foreach (var filter in r.GetValue(filters) ?? [])
            {
                var eq = filter.IndexOf('=', StringComparison.Ordinal);
                var key = eq <= 0 ? string.Empty : filter[..eq].ToLowerInvariant();
                key = key switch { "application" => "app", "environment" => "env", "tags" => "tag", _ => key };
                if (key is not ("app" or "env" or "status" or "tag" or "owner" or "name"))
                {
                    throw new ClientUsageException($"'{filter}' is not a filter: use app=, env=, status=, tag=, owner= or name=.");
                }

                query.Add(key + "=" + Uri.EscapeDataString(filter[(eq + 1)..]));
            }

            query.Add("limit=1000");
            var answer = await client.GetAsync("/api/v1/hosts?" + string.Join('&', query), token);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(answer.GetProperty("hosts").GetRawText());
                return ExitCodes.Succeeded;
            }

            foreach (var h in answer.GetProperty("hosts").EnumerateArray())
            {
                Console.Out.WriteLine(string.Join('\t', Str(h, "hostname"), Str(h, "environment"), Str(h, "application"), Str(h, "status"), Str(h, "owner"),
                    h.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).FirstOrDefault() ?? "-"));
            }

            var total = answer.GetProperty("total").GetInt32();
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{total} host{(total == 1 ? string.Empty : "s")}."));
            return ExitCodes.Succeeded;
        }, ct));

        var show = new Command("show", "Show one host. Exit 1 when there is none you may see.") { name, json, url };
        show.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var h = await client.GetAsync($"/api/v1/hosts/{Uri.EscapeDataString(r.GetValue(name)!)}", token);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(h.GetRawText());
                return ExitCodes.Succeeded;
            }

            Console.Out.WriteLine($"hostname:    {Str(h, "hostname")}");
            Console.Out.WriteLine($"addresses:   {string.Join(", ", h.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()))}");
            Console.Out.WriteLine($"environment: {Str(h, "environment")}");
            Console.Out.WriteLine($"application: {Str(h, "application")}");
            Console.Out.WriteLine($"tags:        {string.Join(", ", h.GetProperty("tags").EnumerateArray().Select(a => a.GetString()))}");
            Console.Out.WriteLine($"owner:       {Str(h, "owner")}");
            Console.Out.WriteLine($"status:      {Str(h, "status")}");
            foreach (var a in h.GetProperty("attributes").EnumerateObject())
            {
                Console.Out.WriteLine($"attr.{a.Name}: {a.Value.GetString()}");
            }

            return ExitCodes.Succeeded;
        }, ct));

        var fields = new Argument<string[]>("FIELD=VALUE") { Description = "addresses=a;b environment= application= tags=a;b owner= status= attr.NAME=VALUE (omitted fields keep their value; FIELD= clears)", Arity = ArgumentArity.ZeroOrMore };
        var set = new Command("set", "Create a host, or change the fields given and keep the others.") { name, fields, url };
        set.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var hostname = r.GetValue(name)!;
            JsonObject host;
            try
            {
                host = JsonNode.Parse((await client.GetAsync($"/api/v1/hosts/{Uri.EscapeDataString(hostname)}", token)).GetRawText())!.AsObject();
            }
            catch (ApiException ex) when (ex.StatusCode == 404)
            {
                host = new JsonObject { ["hostname"] = hostname, ["attributes"] = new JsonObject() };
            }

            foreach (var field in r.GetValue(fields) ?? [])
            {
                Apply(host, field);
            }

            var answer = await client.SendAsync(HttpMethod.Put, $"/api/v1/hosts/{Uri.EscapeDataString(hostname)}", host, token);
            var change = answer.GetProperty("change").GetString();
            var changed = answer.GetProperty("diff").EnumerateObject().Select(p => p.Name).ToList();
            await Console.Error.WriteLineAsync(change == "unchanged" ? $"{hostname}: unchanged." : $"{hostname}: {change} ({string.Join(", ", changed)}).");
            return ExitCodes.Succeeded;
        }, ct));

        var delete = new Command("delete", "Delete a host (its history is kept). Exit 1 when there is none you may see.") { name, url };
        delete.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            await client.SendAsync(HttpMethod.Delete, $"/api/v1/hosts/{Uri.EscapeDataString(r.GetValue(name)!)}", null, token);
            await Console.Error.WriteLineAsync($"Deleted {r.GetValue(name)}.");
            return ExitCodes.Succeeded;
        }, ct));

        var history = new Command("history", "Who changed a host, when, and what (newest first).") { name, json, url };
        history.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var answer = await client.GetAsync($"/api/v1/hosts/{Uri.EscapeDataString(r.GetValue(name)!)}/history", token);
            if (r.GetValue(json))
            {
                Console.Out.WriteLine(answer.GetProperty("history").GetRawText());
                return ExitCodes.Succeeded;
            }

            foreach (var e in answer.GetProperty("history").EnumerateArray())
            {
                var diff = string.Join("; ", e.GetProperty("diff").EnumerateObject().Select(p => $"{p.Name}: {Value(p.Value.GetProperty("from"))} → {Value(p.Value.GetProperty("to"))}"));
                Console.Out.WriteLine($"{e.GetProperty("at").GetDateTimeOffset().ToString("u", CultureInfo.InvariantCulture)}  {Str(e, "actor")} ({Str(e, "door")})  {Str(e, "change")}  {diff}");
            }

            return ExitCodes.Succeeded;
        }, ct));

        var file = new Argument<FileInfo>("FILE") { Description = "A CSV or JSON file of hosts (- for standard input)" };
        var format = new Option<string?>("--format") { Description = "csv or json (default: from the file's extension, else csv)", HelpName = "FORMAT" };
        format.AcceptOnlyFromAmong("csv", "json");
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would change, change nothing" };
        var prune = new Option<bool>("--prune") { Description = "Also delete the hosts you manage that the file leaves out" };
        var import = new Command("import", "Import hosts from a file: each is created, updated or left unchanged; all or nothing.") { file, format, dryRun, prune, json, url };
        import.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var path = r.GetValue(file)!;
            var text = path.Name == "-" ? await Console.In.ReadToEndAsync(token) : await ReadFileAsync(path, token);
            var fileFormat = r.GetValue(format) ?? (path.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? "json" : "csv");
            var query = $"/api/v1/hosts/import?format={fileFormat}&dryRun={(r.GetValue(dryRun) ? "true" : "false")}&prune={(r.GetValue(prune) ? "true" : "false")}";
            JsonElement report;
            try
            {
                report = fileFormat == "json"
                    ? await client.SendTextAsync(HttpMethod.Post, query, text, "application/json", token)
                    : await client.SendAsync(HttpMethod.Post, query, new JsonObject { ["content"] = text }, token);
            }
            catch (ApiException ex) when (ex.StatusCode == 400 && ex.Body is { } body && body.TryGetProperty("problems", out var problems))
            {
                foreach (var p in problems.EnumerateArray())
                {
                    var line = p.GetProperty("line").GetInt32();
                    await Console.Error.WriteLineAsync(line > 0 ? $"{path.Name}:{line}: {p.GetProperty("message").GetString()}" : $"{path.Name}: {p.GetProperty("message").GetString()}");
                }

                await Console.Error.WriteLineAsync("Nothing was imported.");
                return ExitCodes.Failed;
            }

            if (r.GetValue(json))
            {
                Console.Out.WriteLine(report.GetRawText());
                return ExitCodes.Succeeded;
            }

            foreach (var item in report.GetProperty("items").EnumerateArray())
            {
                var changes = item.GetProperty("changes").EnumerateObject().Select(p => p.Name).ToList();
                Console.Out.WriteLine($"{Str(item, "action"),-9} {Str(item, "hostname")}{(changes.Count > 0 && Str(item, "action") == "update" ? " (" + string.Join(", ", changes) + ")" : string.Empty)}");
            }

            var verb = report.GetProperty("dryRun").GetBoolean() ? "Would create" : "Created";
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{verb} {report.GetProperty("created").GetInt32()}, update {report.GetProperty("updated").GetInt32()}, delete {report.GetProperty("deleted").GetInt32()}; {report.GetProperty("unchanged").GetInt32()} unchanged."));
            return ExitCodes.Succeeded;
        }, ct));

        var exportFormat = new Option<string>("--format") { Description = "csv or json", HelpName = "FORMAT", DefaultValueFactory = _ => "csv" };
        exportFormat.AcceptOnlyFromAmong("csv", "json");
        var export = new Command("export", "Print the hosts you may see in the import format.") { exportFormat, url };
        export.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, notFoundFails: true, async (client, token) =>
        {
            var fmt = r.GetValue(exportFormat)!;
            Console.Out.Write(fmt == "json"
                ? (await client.GetAsync("/api/v1/hosts/export?format=json", token)).GetRawText() + "\n"
                : await client.GetTextAsync("/api/v1/hosts/export?format=csv", token));
            return ExitCodes.Succeeded;
        }, ct));

        root.Subcommands.Add(new Command("host", "Read and change the CMDB's hosts on the server (exit 0 done, 1 not found or failed, 2 refused, 3 no server).")
        {
            list, show, set, delete, history, import, export,
        });
    }

    private static void Apply(JsonObject host, string field)
    {
        var eq = field.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ClientUsageException($"'{field}' is not FIELD=VALUE.");
        }

        var key = field[..eq].ToLowerInvariant();
        var value = field[(eq + 1)..];
        if (key.StartsWith("attr.", StringComparison.Ordinal) && key.Length > 5)
        {
            var attributes = host["attributes"] as JsonObject ?? [];
            host["attributes"] = attributes;
            if (value.Length == 0)
            {
                attributes.Remove(field[5..eq]);
            }
            else
            {
                attributes[field[5..eq]] = value;
            }

            return;
        }

        switch (key)
        {
            case "addresses" or "tags":
                host[key] = new JsonArray([.. value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => JsonValue.Create(v))]);
                break;
            case "environment" or "application" or "owner" or "status":
                host[key] = value.Length == 0 ? null : value;
                break;
            default:
                throw new ClientUsageException($"'{key}' is not a host field: addresses, environment, application, tags, owner, status or attr.NAME.");
        }
    }

    private static async Task<string> ReadFileAsync(FileInfo path, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllTextAsync(path.FullName, Encoding.UTF8, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ClientUsageException($"Cannot read {path.FullName}: {ex.Message}");
        }
    }

    private static string Str(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "-";

    private static string Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => "(none)",
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Array => "[" + string.Join(", ", e.EnumerateArray().Select(x => x.GetString())) + "]",
        _ => e.GetRawText(),
    };
}
