using System.Text.Json.Nodes;

namespace OpsRobot.Core.Workflows;

/// <summary>A place in a workflow file, for error messages (1-based; 0 when unknown).</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Auto)]
public readonly record struct SourcePosition(int Line, int Column);

/// <summary>A problem found while loading a workflow, pointing at the exact place in the file.</summary>
public sealed record WorkflowError(string File, int Line, int Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{File}:{Line}:{Column}: {Message}" : $"{File}: {Message}";
}

/// <summary>A workflow that cannot be loaded; carries every problem found, each with its position.</summary>
public sealed class WorkflowLoadException : Exception
{
    public WorkflowLoadException()
        : this([])
    {
    }

    public WorkflowLoadException(string message)
        : base(message)
    {
        Errors = [];
    }

    public WorkflowLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    public WorkflowLoadException(IReadOnlyList<WorkflowError> errors)
        : base(errors is null || errors.Count == 0 ? "The workflow could not be loaded." : string.Join(Environment.NewLine, errors))
    {
        Errors = errors ?? [];
    }

    /// <summary>Every problem, in file order.</summary>
    public IReadOnlyList<WorkflowError> Errors { get; }
}

/// <summary>A name and a value (an input's default, a variable, an output, a published value), in file order.</summary>
/// <param name="Name">The name.</param>
/// <param name="Value">The value as written: a literal, or text with <c>&lt;% %&gt;</c> / <c>{{ }}</c> expressions, or a list or mapping of them.</param>
/// <param name="HasValue">False for an input declared by name only (no default).</param>
/// <param name="Position">Where it is written.</param>
public sealed record NamedValue(string Name, JsonNode? Value, bool HasValue, SourcePosition Position);

/// <summary>A workflow file in Orquesta's native shape (<c>version: 1.0</c>).</summary>
public sealed class WorkflowDefinition
{
    /// <summary>The file it was loaded from (or a name given by the caller), for messages.</summary>
    public required string SourceFile { get; init; }

    public string? Description { get; init; }

    /// <summary>The inputs, with their defaults, in the order declared.</summary>
    public IReadOnlyList<NamedValue> Inputs { get; init; } = [];

    /// <summary>The variables, evaluated in order after the inputs.</summary>
    public IReadOnlyList<NamedValue> Vars { get; init; } = [];

    /// <summary>The outputs, evaluated in order when the workflow completes.</summary>
    public IReadOnlyList<NamedValue> Output { get; init; } = [];

    /// <summary>The tasks, in file order.</summary>
    public required IReadOnlyList<TaskDefinition> Tasks { get; init; }

    /// <summary>Finds a task by name.</summary>
    public TaskDefinition? FindTask(string name) => Tasks.FirstOrDefault(t => t.Name == name);
}

/// <summary>One task of a workflow.</summary>
public sealed class TaskDefinition
{
    public required string Name { get; init; }

    public SourcePosition Position { get; init; }

    /// <summary>The action to run (<c>pack.name</c>, possibly an expression); null for a task that only routes.</summary>
    public string? Action { get; init; }

    /// <summary>The action's input: a mapping whose values may hold expressions, or one expression giving a mapping.</summary>
    public JsonNode? Input { get; init; }

    /// <summary>The join: null when the task is not a join.</summary>
    public JoinDefinition? Join { get; init; }

    /// <summary>With-items: null when the task runs its action once.</summary>
    public ItemsDefinition? With { get; init; }

    /// <summary>Retry: null when the task declares none (a <c>do: retry</c> transition adds one).</summary>
    public RetryDefinition? Retry { get; init; }

    /// <summary>Seconds to wait before the action starts: a number or an expression; null for none.</summary>
    public JsonNode? Delay { get; init; }

    /// <summary>The transitions, in file order.</summary>
    public IReadOnlyList<TransitionDefinition> Next { get; init; } = [];
}

/// <summary><c>join: all</c> (<see cref="Count"/> null) or <c>join: N</c>.</summary>
public sealed record JoinDefinition(int? Count, SourcePosition Position)
{
    public bool All => Count is null;
}

/// <summary>
/// <c>with: items: …</c>: the items expression, the names items are bound to (<c>x, y in &lt;% zip(…) %&gt;</c>),
/// and how many may run at once.
/// </summary>
public sealed record ItemsDefinition(string Items, string ItemsExpression, IReadOnlyList<string> Keys, JsonNode? Concurrency, SourcePosition Position);

/// <summary><c>retry: {when, count, delay}</c>.</summary>
public sealed record RetryDefinition(string? When, JsonNode? Count, JsonNode? Delay, SourcePosition Position);

/// <summary>One entry of a task's <c>next</c>: when it applies, what it publishes, and which tasks it starts.</summary>
/// <param name="Index">Its index in the task's <c>next</c> list.</param>
/// <param name="When">The condition, or null for always.</param>
/// <param name="Publish">Values published into the context, in order.</param>
/// <param name="Do">The tasks (or engine commands) to run; <c>continue</c> when none is written.</param>
/// <param name="Position">Where it is written.</param>
public sealed record TransitionDefinition(int Index, string? When, IReadOnlyList<NamedValue> Publish, IReadOnlyList<string> Do, SourcePosition Position)
{
    /// <summary>Where the <c>do</c> list is written (the transition itself when it has none).</summary>
    public SourcePosition DoPosition { get; init; } = Position;
}
