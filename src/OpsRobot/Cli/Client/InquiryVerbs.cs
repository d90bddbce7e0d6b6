using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsRobot.Core.Inquiries;

namespace OpsRobot.Cli.Client;

/// <summary>
/// <c>opsrobot inquiry list|get|respond</c>: the questions workflows ask people (docs/workflows.md), through a running
/// server's API. <c>respond ID key=value …</c> types each value by the inquiry's schema before sending it, so a typo is
/// refused with the field's name before anything is sent.
/// </summary>
internal static class InquiryVerbs
{
    public static void Add(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var url = new Option<string?>("--url") { Description = $"The OpsRobot server (default: ${OpsRobotClient.UrlVariable}, else {OpsRobotClient.DefaultUrl})", HelpName = "URL" };

        var status = new Option<string?>("--status") { Description = "Only inquiries in this status: " + string.Join(", ", InquiryStatuses.All), HelpName = "STATUS" };
        var listJson = new Option<bool>("--json") { Description = "Print the inquiries as a JSON array" };
        var list = new Command("list", "List the inquiries you may answer or see, newest first.\n\nExamples:\n  opsrobot inquiry list\n  opsrobot inquiry list --status pending")
        {
            status, listJson, url,
        };
        list.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, (client, token) => ListAsync(client, r.GetValue(status), r.GetValue(listJson), token), ct));

        var getId = IdArgument();
        var getJson = new Option<bool>("--json") { Description = "Print the inquiry as JSON" };
        var get = new Command("get", "Show one inquiry: question, fields, who may answer, expiry, status and response.\n\nExample:\n  opsrobot inquiry get 12")
        {
            getId, getJson, url,
        };
        get.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, (client, token) => GetAsync(client, r.GetValue(getId), r.GetValue(getJson), token), ct));

        var respondId = IdArgument();
        var pairs = new Argument<string[]>("RESPONSE")
        {
            Description = "The answer as key=value (split at the first '='; quote values with spaces). For an approve/deny inquiry: approved=true or approved=false [comment=…]",
            Arity = ArgumentArity.OneOrMore,
        };
        var respond = new Command("respond",
            "Answer an inquiry; its workflow goes on (or, for approved=false, its ask task fails).\n\nExamples:\n"
            + "  opsrobot inquiry respond 12 approved=true comment=\"checked the dashboards\"\n"
            + "  opsrobot inquiry respond 13 version=1.4.2 canary=true")
        {
            respondId, pairs, url,
        };
        respond.SetAction((r, ct) => ClientVerbs.InvokeAsync(r, url, (client, token) => RespondAsync(client, r.GetValue(respondId), r.GetValue(pairs) ?? [], token), ct));

        root.Subcommands.Add(new Command("inquiry", "List, show and answer the questions workflows ask (core.ask).") { list, get, respond });
    }

    private static Argument<long> IdArgument() => new("ID") { Description = "The inquiry's number, as its question and 'inquiry list' show it" };

    private static async Task<int> ListAsync(OpsRobotClient client, string? status, bool json, CancellationToken cancellationToken)
    {
        if (status is not null && !InquiryStatuses.All.Contains(status, StringComparer.Ordinal))
        {
            throw new ClientUsageException($"--status must be one of {string.Join(", ", InquiryStatuses.All)}.");
        }

        var answer = await client.GetAsync("api/v1/inquiries?limit=1000" + (status is null ? string.Empty : "&status=" + Uri.EscapeDataString(status)), cancellationToken);
        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("inquiries", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            throw new UnexpectedAnswerException("The answer to GET /api/v1/inquiries has no 'inquiries' list.");
        }

        if (json)
        {
            await Console.Out.WriteLineAsync(Text.Pretty(items));
            return ExitCodes.Succeeded;
        }

        var rows = items.EnumerateArray().Select(i => (IReadOnlyList<string>)
        [
            Str(i, "id"),
            Str(i, "status"),
            Str(i, "workflow"),
            OpsRobotClient.OneLine(Str(i, "question")),
            Str(i, "expiresAt"),
            i.TryGetProperty("respondedBy", out var by) && by.ValueKind == JsonValueKind.String ? OpsRobotClient.OneLine(by.GetString()!) : "-",
        ]).ToList();
        if (rows.Count == 0)
        {
            await Console.Out.WriteLineAsync(status is null ? "No inquiries." : $"No {status} inquiries.");
            return ExitCodes.Succeeded;
        }

        await Console.Out.WriteAsync(Text.Table(["ID", "STATUS", "WORKFLOW", "QUESTION", "EXPIRES", "ANSWERED BY"], rows));
        return ExitCodes.Succeeded;
    }

    private static async Task<int> GetAsync(OpsRobotClient client, long id, bool json, CancellationToken cancellationToken)
    {
        var inquiry = await client.GetAsync($"api/v1/inquiries/{id.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        if (json)
        {
            await Console.Out.WriteLineAsync(Text.Pretty(inquiry));
            return ExitCodes.Succeeded;
        }

        var schema = InquirySchema.Parse(JsonNode.Parse(inquiry.GetProperty("schema").GetRawText()));
        await Console.Out.WriteLineAsync($"inquiry {id}: {Str(inquiry, "status")}");
        await Console.Out.WriteLineAsync($"  question    {OpsRobotClient.OneLine(Str(inquiry, "question"))}");
        await Console.Out.WriteLineAsync($"  workflow    {Str(inquiry, "workflow")}");
        await Console.Out.WriteLineAsync($"  fields      {(schema.IsApproval ? "approve/deny (approved=true|false, comment)" : OpsRobotClient.OneLine(schema.DescribeFields()))}");
        await Console.Out.WriteLineAsync($"  may answer  {Names(inquiry)}");
        await Console.Out.WriteLineAsync($"  expires     {Str(inquiry, "expiresAt")}");
        if (inquiry.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object)
        {
            await Console.Out.WriteLineAsync($"  response    {OpsRobotClient.OneLine(response.GetRawText())} by {OpsRobotClient.OneLine(Str(inquiry, "respondedBy"))}");
        }

        return ExitCodes.Succeeded;
    }

    private static async Task<int> RespondAsync(OpsRobotClient client, long id, string[] arguments, CancellationToken cancellationToken)
    {
        var path = $"api/v1/inquiries/{id.ToString(CultureInfo.InvariantCulture)}";
        var inquiry = await client.GetAsync(path, cancellationToken);
        var schema = InquirySchema.Parse(JsonNode.Parse(inquiry.GetProperty("schema").GetRawText()));
        var split = new List<(string, string)>();
        foreach (var argument in arguments)
        {
            var eq = argument.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ClientUsageException($"'{OpsRobotClient.OneLine(argument)}' is not key=value.");
            }

            split.Add((argument[..eq], argument[(eq + 1)..]));
        }

        JsonObject response;
        try
        {
            response = schema.FromPairs(split);
        }
        catch (InquirySchemaException ex)
        {
            throw new ClientUsageException($"That does not answer inquiry {id}: {ex.Message}");
        }

        var answer = await client.SendAsync(HttpMethod.Put, path, new JsonObject { ["response"] = response }, cancellationToken);
        await Console.Out.WriteLineAsync($"inquiry {id} is {Str(answer, "status")}; the workflow {(Str(answer, "status") == InquiryStatuses.Denied ? "follows the ask's failure" : "goes on")}.");
        return ExitCodes.Succeeded;
    }

    private static string Names(JsonElement inquiry)
    {
        var users = inquiry.GetProperty("users").EnumerateArray().Select(u => u.GetString()).ToList();
        var roles = inquiry.GetProperty("roles").EnumerateArray().Select(r => "role " + r.GetString()).ToList();
        var all = users.Concat(roles).ToList();
        return all.Count == 0 ? "any OpsRobot user" : OpsRobotClient.OneLine(string.Join(", ", all));
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Null or JsonValueKind.Undefined => "-",
            _ => v.GetRawText(),
        } : "-";
}
