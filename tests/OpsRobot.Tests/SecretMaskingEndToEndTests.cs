using System.Net.Http.Json;
using System.Text.Json;
using OpsRobot.Tests.Support;

namespace OpsRobot.Tests;

/// <summary>
/// Secrets that reach an execution by another road than its own <c>secret: true</c> parameters, through the real
/// server: a datastore secret a rule renders into a parameter, a workflow's secret input passed on to a step. What the
/// API, the output and the tamper-evident audit keep shows the mask; the action itself gets the real value.
/// </summary>
public sealed class SecretMaskingEndToEndTests : IAsyncLifetime
{
    private const string Token = "SuperSecret123";
    private const string Password = "TopSecretPW42";
    private WorkflowWorld _world = null!;

    public async Task InitializeAsync() => _world = await WorkflowWorld.StartAsync(home =>
    {
        WorkflowPacks.WriteTell(home);
        home.Write("packs/leak/rules/hook.yaml", """
            name: hook
            trigger: {type: core.webhook, parameters: {url: leak}}
            action:
              ref: leak.tell
              parameters:
                message: "token={{ kv.system.api_token }}"
                file: "{{ trigger.body.file }}"
            """);
        home.Write("packs/leak/rules/relay.yaml", """
            name: relay
            trigger: {type: core.webhook, parameters: {url: leak-relay}}
            action:
              ref: leak.relay
              parameters:
                message: "token={{ kv.system.api_token }}"
                file: "{{ trigger.body.file }}"
            """);
        home.Write("packs/leak/actions/relay.yaml", """
            name: relay
            runner_type: workflow
            entry_point: workflows/relay.yaml
            parameters:
              message: {type: string, required: true}
              file: {type: string, required: true}
            """);
        home.Write("packs/leak/actions/workflows/relay.yaml", """
            version: 1.0
            input:
              - message
              - file
            tasks:
              say:
                action: leak.tell message=<% ctx(message) %> file=<% ctx(file) %>
            """);
        home.Write("packs/leak/actions/login.yaml", """
            name: login
            runner_type: workflow
            entry_point: workflows/login.yaml
            parameters:
              password: {type: string, secret: true, required: true}
              file: {type: string, required: true}
            """);
        home.Write("packs/leak/actions/workflows/login.yaml", """
            version: 1.0
            input:
              - password
              - file
            tasks:
              say:
                action: leak.tell message="pw is <% ctx(password) %>" file=<% ctx(file) %>
                next:
                  - when: <% succeeded() %>
                    publish: said=<% result().stdout %>
            output:
              - said: <% ctx(said) %>
            """);
    });

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task Rule_RendersADatastoreSecret_ExecutionOutputApiAndAuditShowTheMask_TheActionGetsTheValue()
    {
        (await _world.Admin.PutAsJsonAsync("/api/v1/kv/system/api_token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
        var file = Path.Combine(_world.Server.Home.Path, "rule-said.txt");

        (await _world.Admin.PostAsJsonAsync("/api/v1/webhooks/leak", new { file })).EnsureSuccessStatusCode();
        IReadOnlyList<JsonElement> started = [];
        await ExecutionFlowTests.WaitUntilAsync(async () => (started = await _world.ExecutionsOfAsync("leak.tell")).Count > 0, TimeSpan.FromSeconds(60));
        var id = started.ShouldHaveSingleItem().GetProperty("id").GetInt64();
        var execution = await _world.WaitFinishedAsync(id);

        execution.GetProperty("status").GetString().ShouldBe("succeeded", execution.ToString());
        execution.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("token=********");
        execution.GetProperty("result").GetProperty("stdout").GetString().ShouldBe("token=********");
        await ShowsNoSecretAsync(id, Token);
        (await File.ReadAllTextAsync(file)).Trim().ShouldBe("token=" + Token, "the action itself gets the secret in clear");
    }

    [Fact]
    public async Task Workflow_PassesItsSecretInputToAStep_TheStepShowsTheMask_AndGetsTheValue()
    {
        var file = Path.Combine(_world.Server.Home.Path, "step-said.txt");

        var id = await _world.StartAsync("leak.login", new { password = Password, file });
        var workflow = await _world.WaitFinishedAsync(id);

        workflow.GetProperty("status").GetString().ShouldBe("succeeded", workflow.ToString());
        var step = (await _world.ChildrenAsync(id, "leak.tell")).ShouldHaveSingleItem();
        step.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("pw is ********");
        workflow.GetProperty("result").GetProperty("output").GetProperty("said").GetString().ShouldBe("pw is ********");
        await ShowsNoSecretAsync(step.GetProperty("id").GetInt64(), Password);
        await ShowsNoSecretAsync(id, Password, printsIt: false);
        (await File.ReadAllTextAsync(file)).Trim().ShouldBe("pw is " + Password, "the step itself gets the secret in clear");
    }

    // A datastore secret a rule hands to a workflow through an input that is not secret: the workflow's stored run is
    // sealed like a secret workflow's (it was stored in clear), and its step masks it.
    [Fact]
    public async Task Rule_HandsADatastoreSecretToAWorkflow_TheStoredRunIsSealed_AndTheStepMasksIt()
    {
        (await _world.Admin.PutAsJsonAsync("/api/v1/kv/system/api_token", new { value = Token, secret = true })).EnsureSuccessStatusCode();
        var file = Path.Combine(_world.Server.Home.Path, "relay-said.txt");

        (await _world.Admin.PostAsJsonAsync("/api/v1/webhooks/leak-relay", new { file })).EnsureSuccessStatusCode();
        IReadOnlyList<JsonElement> started = [];
        await ExecutionFlowTests.WaitUntilAsync(async () => (started = await _world.ExecutionsOfAsync("leak.relay")).Count > 0, TimeSpan.FromSeconds(60));
        var id = started.ShouldHaveSingleItem().GetProperty("id").GetInt64();
        var workflow = await _world.WaitFinishedAsync(id);

        workflow.GetProperty("status").GetString().ShouldBe("succeeded", workflow.ToString());
        var step = (await _world.ChildrenAsync(id, "leak.tell")).ShouldHaveSingleItem();
        step.GetProperty("parameters").GetProperty("message").GetString().ShouldBe("token=********");
        await ShowsNoSecretAsync(step.GetProperty("id").GetInt64(), Token);
        (await File.ReadAllTextAsync(file)).Trim().ShouldBe("token=" + Token, "the step itself gets the secret in clear");

        // Nothing in the database's files holds it in clear: not the workflow's stored run, not its execution record.
        var data = Path.Combine(_world.Server.Home.Path, "data");
        foreach (var stored in Directory.GetFiles(data, "opsrobot.db*"))
        {
            using var copy = new FileStream(stored, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var bytes = new MemoryStream();
            await copy.CopyToAsync(bytes);
            System.Text.Encoding.UTF8.GetString(bytes.ToArray()).ShouldNotContain(Token, customMessage: Path.GetFileName(stored));
        }
    }

    /// <summary>The execution as the API shows it, its output, and the whole audit trail: none holds the secret.</summary>
    private async Task ShowsNoSecretAsync(long id, string secret, bool printsIt = true)
    {
        var record = await _world.Admin.GetStringAsync($"/api/v1/executions/{id}");
        var output = await _world.Admin.GetStringAsync($"/api/v1/executions/{id}/output?format=text");
        var audit = await _world.Admin.GetStringAsync("/api/v1/audit?limit=500");

        record.ShouldNotContain(secret);
        output.ShouldNotContain(secret);
        if (printsIt)
        {
            output.ShouldContain("********");
        }

        audit.ShouldNotContain(secret);
        audit.ShouldContain($"#{id} ", Case.Sensitive, "the execution's start and end are audited");
    }
}
