using System.Globalization;
using System.Text.Json.Nodes;
using OpsRobot.Core.Packs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Workflows.Rehearsal;

/// <summary>A mocked action execution: what a task's action (or one of its items, or one of its runs) returns.</summary>
public sealed class MockActionExecution
{
    public required string TaskId { get; init; }

    /// <summary>Only for the task run at this index of the task sequence (a run in a cycle, a retry's task).</summary>
    public int? SeqId { get; init; }

    /// <summary>For a with-items task: the item.</summary>
    public int? ItemId { get; init; }

    /// <summary>How many runs this mock answers (StackStorm's <c>num_iter</c>, default 1).</summary>
    public int NumIter { get; init; } = 1;

    public string Status { get; init; } = WorkflowStatuses.Succeeded;

    public JsonNode? Result { get; init; }

    /// <summary>How many times it has answered so far in this rehearsal.</summary>
    internal int Used { get; set; }
}

/// <summary>
/// A rehearsal spec in orquesta-rehearse's format: the workflow, its inputs, mocked action executions, and what to
/// expect (task sequence, routes, terminal tasks, status, output, errors).
/// </summary>
public sealed class RehearsalSpec
{
    /// <summary>The spec file, for messages; relative paths in it resolve against its folder.</summary>
    public required string SourceFile { get; init; }

    /// <summary>The workflow file as written in the spec.</summary>
    public required string Workflow { get; init; }

    /// <summary>The workflow file's full path.</summary>
    public required string WorkflowPath { get; init; }

    public JsonObject Inputs { get; init; } = [];

    public IReadOnlyList<MockActionExecution> MockActionExecutions { get; init; } = [];

    public required IReadOnlyList<string> ExpectedTaskSequence { get; init; }

    public IReadOnlyList<IReadOnlyList<string>> ExpectedRoutes { get; init; } = [[]];

    public IReadOnlyList<string>? ExpectedTermTasks { get; init; }

    public string ExpectedWorkflowStatus { get; init; } = WorkflowStatuses.Succeeded;

    public JsonArray? ExpectedErrors { get; init; }

    public JsonObject? ExpectedOutput { get; init; }

    /// <summary>When present and not empty, the workflow is expected to fail its load-time checks.</summary>
    public JsonObject? ExpectedInspectionErrors { get; init; }

    private static readonly string[] Fields =
    [
        "workflow", "inputs", "mock_action_executions", "expected_task_sequence", "expected_routes", "expected_term_tasks",
        "expected_workflow_status", "expected_errors", "expected_output", "expected_inspection_errors",
    ];

    private static readonly string[] MockFields = ["task_id", "route", "seq_id", "item_id", "iter_id", "num_iter", "status", "result"];

    /// <summary>Reads a spec file.</summary>
    /// <exception cref="WorkflowLoadException">The spec cannot be read or does not fit the format; each problem is listed.</exception>
    public static RehearsalSpec Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        path = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WorkflowLoadException([new WorkflowError(path, 0, 0, $"cannot read the rehearsal spec: {ex.Message}")]);
        }

        return Parse(text, path);
    }

    /// <summary>Reads a spec from its text; <paramref name="path"/> names it and anchors relative paths.</summary>
    /// <exception cref="WorkflowLoadException">The spec does not fit the format; each problem is listed.</exception>
    public static RehearsalSpec Parse(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var errors = new List<WorkflowError>();
        void Error(YamlNode? node, string message) => errors.Add(new WorkflowError(path, (int)(node?.Start.Line ?? 0), (int)(node?.Start.Column ?? 0), message));

        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                throw new WorkflowLoadException([new WorkflowError(path, 1, 1, "a rehearsal spec is one mapping with workflow and expected_task_sequence")]);
            }

            root = mapping;
        }
        catch (YamlException ex)
        {
            throw new WorkflowLoadException([new WorkflowError(path, (int)ex.Start.Line, (int)ex.Start.Column, ex.InnerException?.Message ?? ex.Message)]);
        }

        YamlNode? Field(YamlMappingNode map, string key) => map.Children.TryGetValue(new YamlScalarNode(key), out var n) && !YamlFields.IsNull(n) ? n : null;

        foreach (var key in root.Children.Keys)
        {
            if (!Fields.Contains((key as YamlScalarNode)?.Value, StringComparer.Ordinal))
            {
                Error(key, $"unknown field '{key}'; a rehearsal spec has {string.Join(", ", Fields)}");
            }
        }

        var workflowNode = Field(root, "workflow") as YamlScalarNode;
        if (workflowNode is null || string.IsNullOrWhiteSpace(workflowNode.Value))
        {
            Error(Field(root, "workflow") ?? root, "missing 'workflow': the path of the workflow file to rehearse");
        }

        var sequence = Strings(Field(root, "expected_task_sequence"), "expected_task_sequence", Error, required: true) ?? [];
        var routes = new List<IReadOnlyList<string>>();
        if (Field(root, "expected_routes") is { } routesNode)
        {
            if (routesNode is YamlSequenceNode seq)
            {
                foreach (var item in seq.Children)
                {
                    routes.Add(Strings(item, "each route in expected_routes", Error, required: false) ?? []);
                }
            }
            else
            {
                Error(routesNode, "expected_routes must be a list of lists of transition ids");
            }
        }
        else
        {
            routes.Add([]);
        }

        var mocks = new List<MockActionExecution>();
        if (Field(root, "mock_action_executions") is { } mocksNode)
        {
            if (mocksNode is not YamlSequenceNode list)
            {
                Error(mocksNode, "mock_action_executions must be a list");
            }
            else
            {
                foreach (var item in list.Children)
                {
                    if (item is not YamlMappingNode m)
                    {
                        Error(item, "each mock action execution must be a mapping with task_id and status");
                        continue;
                    }

                    foreach (var key in m.Children.Keys.Where(k => !MockFields.Contains((k as YamlScalarNode)?.Value, StringComparer.Ordinal)))
                    {
                        Error(key, $"unknown field '{key}' in a mock action execution; expected {string.Join(", ", MockFields)}");
                    }

                    var taskId = (Field(m, "task_id") as YamlScalarNode)?.Value;
                    if (string.IsNullOrWhiteSpace(taskId))
                    {
                        Error(m, "a mock action execution needs task_id");
                        continue;
                    }

                    var status = (Field(m, "status") as YamlScalarNode)?.Value ?? WorkflowStatuses.Succeeded;
                    if (!WorkflowStatuses.IsValid(status))
                    {
                        Error(Field(m, "status"), $"'{status}' is not a status; use one of {string.Join(", ", WorkflowStatuses.All)}");
                    }

                    mocks.Add(new MockActionExecution
                    {
                        TaskId = taskId,
                        SeqId = Integer(Field(m, "seq_id"), "seq_id", Error),
                        ItemId = Integer(Field(m, "item_id"), "item_id", Error),
                        NumIter = Integer(Field(m, "num_iter"), "num_iter", Error) ?? 1,
                        Status = status,
                        Result = Field(m, "result") is { } r ? YamlFields.ToJson(r) : null,
                    });
                }
            }
        }

        var expectedStatus = (Field(root, "expected_workflow_status") as YamlScalarNode)?.Value ?? WorkflowStatuses.Succeeded;
        if (!WorkflowStatuses.IsValid(expectedStatus))
        {
            Error(Field(root, "expected_workflow_status"), $"'{expectedStatus}' is not a workflow status");
        }

        JsonObject? Mapping(string key)
        {
            var node = Field(root, key);
            if (node is null)
            {
                return null;
            }

            if (node is YamlMappingNode)
            {
                return (JsonObject)YamlFields.ToJson(node)!;
            }

            Error(node, $"{key} must be a mapping");
            return null;
        }

        JsonArray? expectedErrors = null;
        if (Field(root, "expected_errors") is { } errorsNode)
        {
            if (errorsNode is YamlSequenceNode)
            {
                expectedErrors = (JsonArray)YamlFields.ToJson(errorsNode)!;
            }
            else
            {
                Error(errorsNode, "expected_errors must be a list of error entries (type, message, task_id, …)");
            }
        }

        var inputs = Mapping("inputs") ?? [];
        var expectedOutput = Mapping("expected_output");
        var inspection = Mapping("expected_inspection_errors");
        var termTasks = Field(root, "expected_term_tasks") is { } term ? Strings(term, "expected_term_tasks", Error, required: false) : null;
        if (errors.Count > 0)
        {
            throw new WorkflowLoadException(errors);
        }

        var workflow = workflowNode!.Value!;
        var baseDir = Path.GetDirectoryName(path) ?? ".";
        var workflowPath = Path.GetFullPath(Path.Combine(baseDir, workflow));
        if (!File.Exists(workflowPath) && File.Exists(Path.GetFullPath(workflow)))
        {
            // orquesta-rehearse resolves the path from where it runs; a spec written for it keeps working.
            workflowPath = Path.GetFullPath(workflow);
        }

        return new RehearsalSpec
        {
            SourceFile = path,
            Workflow = workflow,
            WorkflowPath = workflowPath,
            Inputs = inputs,
            MockActionExecutions = mocks,
            ExpectedTaskSequence = sequence,
            ExpectedRoutes = routes,
            ExpectedTermTasks = termTasks,
            ExpectedWorkflowStatus = expectedStatus,
            ExpectedErrors = expectedErrors,
            ExpectedOutput = expectedOutput,
            ExpectedInspectionErrors = inspection,
        };
    }

    private static List<string>? Strings(YamlNode? node, string what, Action<YamlNode?, string> error, bool required)
    {
        if (node is null)
        {
            if (required)
            {
                error(null, $"missing '{what}'");
            }

            return null;
        }

        if (node is not YamlSequenceNode seq || seq.Children.Any(c => c is not YamlScalarNode))
        {
            error(node, $"{what} must be a list of names");
            return null;
        }

        return [.. seq.Children.Cast<YamlScalarNode>().Select(s => s.Value ?? string.Empty)];
    }

    private static int? Integer(YamlNode? node, string what, Action<YamlNode?, string> error)
    {
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        error(node, $"{what} must be a whole number of 0 or more");
        return null;
    }
}
