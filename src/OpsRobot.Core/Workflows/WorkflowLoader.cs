using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpsRobot.Core.Packs;
using OpsRobot.Core.Workflows.Expressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace OpsRobot.Core.Workflows;

/// <summary>
/// Reads workflow files in Orquesta's native shape and checks them before anything runs: the structure, every
/// expression, the inline <c>key=value</c> forms, names in <c>do</c>, tasks no path reaches, and joins that can never
/// complete. Every problem names its file, line and column; one pass reports them all.
/// </summary>
public sealed partial class WorkflowLoader(WorkflowExpressions expressions)
{
    /// <summary>The largest workflow file read.</summary>
    public const long MaxFileBytes = 1024 * 1024;

    /// <summary>The deepest nesting of mappings and lists accepted.</summary>
    public const int MaxDepth = 64;

    /// <summary>The most tasks a workflow may have.</summary>
    public const int MaxTasks = 10_000;

    private static readonly string[] TopLevelFields = ["version", "description", "input", "vars", "output", "tasks"];
    private static readonly string[] TaskFields = ["action", "input", "next", "join", "with", "retry", "delay"];

    [GeneratedRegex(@"^\w+$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 100)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^\s*(?:(?<keys>\w+(?:\s*,\s*\w+)*)\s+in\s+)?(?<expr>\S.*?)\s*$", RegexOptions.CultureInvariant | RegexOptions.Singleline, matchTimeoutMilliseconds: 100)]
    private static partial Regex ItemsPattern();

    /// <summary>Loads and checks a workflow file.</summary>
    /// <exception cref="WorkflowLoadException">The file cannot be read or has problems; each is listed.</exception>
    public WorkflowGraph LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                throw new WorkflowLoadException([new WorkflowError(path, 0, 0, $"file is {length:N0} bytes; workflow files are limited to {MaxFileBytes:N0}")]);
            }

            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WorkflowLoadException([new WorkflowError(path, 0, 0, $"cannot read the file: {ex.Message}")]);
        }

        return Load(text, path);
    }

    /// <summary>Loads and checks a workflow from its text; <paramref name="sourceName"/> names it in messages.</summary>
    /// <exception cref="WorkflowLoadException">It has problems; each is listed with its position.</exception>
    public WorkflowGraph Load(string text, string sourceName)
    {
        var (graph, errors) = TryLoad(text, sourceName);
        return graph ?? throw new WorkflowLoadException(errors);
    }

    /// <summary>Loads and checks a workflow from its text; returns the graph, or null and every problem found.</summary>
    public (WorkflowGraph? Graph, IReadOnlyList<WorkflowError> Errors) TryLoad(string text, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(sourceName);
        var reader = new Reader(sourceName, expressions);
        var root = reader.Parse(text);
        if (root is null)
        {
            return (null, reader.Errors);
        }

        var definition = reader.Workflow(root);
        if (definition is null || reader.Errors.Count > 0)
        {
            return (null, Sorted(reader.Errors));
        }

        var graph = new WorkflowGraph(definition);
        Inspect(graph, reader.Errors);
        return reader.Errors.Count > 0 ? (null, Sorted(reader.Errors)) : (graph, []);
    }

    private static List<WorkflowError> Sorted(List<WorkflowError> errors) => [.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)];

    /// <summary>The checks that need the whole graph: names in <c>do</c>, reachability, joins.</summary>
    private static void Inspect(WorkflowGraph graph, List<WorkflowError> errors)
    {
        var definition = graph.Definition;
        void Error(SourcePosition at, string message) => errors.Add(new WorkflowError(definition.SourceFile, at.Line, at.Column, message));

        foreach (var task in definition.Tasks)
        {
            foreach (var transition in task.Next)
            {
                foreach (var name in transition.Do.Where(n => !graph.HasTask(n)))
                {
                    var close = definition.Tasks.Select(t => t.Name).Concat(WorkflowGraph.EngineCommands)
                        .Select(n => (Name: n, Distance: Commands.Similarity.Distance(n, name)))
                        .Where(x => x.Distance <= 2).OrderBy(x => x.Distance).Select(x => x.Name).FirstOrDefault();
                    Error(transition.DoPosition, $"task '{task.Name}' goes to '{name}', which is not a task of this workflow" +
                        (close is null ? " (nor continue, fail, noop or retry)" : $"; did you mean '{close}'?"));
                }
            }
        }

        if (graph.Roots.Count == 0)
        {
            Error(definition.Tasks[0].Position, "no task starts the workflow: every task is the target of a transition. If the workflow loops, add a first task that leads into the loop");
            return;
        }

        // Reachability from the start tasks.
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(graph.Roots);
        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            if (reached.Add(name))
            {
                foreach (var edge in graph.Next(name))
                {
                    queue.Enqueue(edge.To);
                }
            }
        }

        foreach (var task in definition.Tasks.Where(t => !reached.Contains(t.Name)))
        {
            Error(task.Position, $"task '{task.Name}' can never run: only tasks that no start task leads to go to it");
        }

        foreach (var task in definition.Tasks.Where(t => t.With is not null && t.Action is null))
        {
            Error(task.With!.Position, $"task '{task.Name}' has 'with' items but no action to run for them");
        }

        foreach (var task in definition.Tasks.Where(t => t.Join is { Count: not null }))
        {
            var inbound = graph.Prev(task.Name).Select(e => e.From).Distinct(StringComparer.Ordinal).Count();
            if (task.Join!.Count > inbound)
            {
                Error(task.Join.Position, $"join task '{task.Name}' waits for {task.Join.Count} branches but only {inbound} task(s) lead to it, so it can never run");
            }
        }

        CheckJoinLevels(graph, Error);
    }

    /// <summary>
    /// A join is ambiguous, and can never complete, when its inbound branches were split at different levels (a
    /// split task between one branch and the join but not the other): the engine cannot tell which runs to join.
    /// </summary>
    private static void CheckJoinLevels(WorkflowGraph graph, Action<SourcePosition, string> error)
    {
        var splits = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var prevs = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var queue = new Queue<(string? Prev, string Task, List<string> Splits)>(graph.Roots.Select(r => ((string?)null, r, new List<string>())));
        var budget = 200_000;
        while (queue.Count > 0)
        {
            if (--budget < 0)
            {
                // A graph this branchy is beyond what the check walks; the engine still refuses an unreachable join at run time.
                return;
            }

            var (prev, task, path) = queue.Dequeue();
            if (graph.Task(task) is null)
            {
                continue;
            }

            if (graph.IsSplit(task) && !graph.InCycle(task))
            {
                path.Add(task);
            }

            var seen = splits.ContainsKey(task);
            if (!seen)
            {
                splits[task] = new HashSet<string>(StringComparer.Ordinal);
                prevs[task] = new HashSet<string>(StringComparer.Ordinal);
            }

            splits[task].UnionWith(path);
            if (prev is not null)
            {
                prevs[task].Add(prev);
            }

            foreach (var edge in graph.Next(task))
            {
                if (!splits.ContainsKey(edge.To) || !graph.InCycle(edge.To))
                {
                    queue.Enqueue((task, edge.To, [.. path]));
                }
            }
        }

        foreach (var task in graph.Definition.Tasks.Where(t => t.Join is not null && prevs.ContainsKey(t.Name)))
        {
            foreach (var prev in prevs[task.Name].Order(StringComparer.Ordinal))
            {
                if (!splits[task.Name].SetEquals(splits[prev]))
                {
                    error(task.Join!.Position, $"join task '{task.Name}' can never complete: its branches were split at different levels " +
                        $"(through {string.Join(", ", splits[task.Name].Union(splits[prev], StringComparer.Ordinal).Except(splits[task.Name].Intersect(splits[prev], StringComparer.Ordinal), StringComparer.Ordinal).Order(StringComparer.Ordinal))}), so it cannot tell which runs to join");
                    break;
                }
            }
        }
    }

    /// <summary>One pass over one file: typed reads that record errors at their exact position.</summary>
    private sealed class Reader(string file, WorkflowExpressions expressions)
    {
        public List<WorkflowError> Errors { get; } = [];

        private static SourcePosition At(YamlNode node) => new((int)node.Start.Line, (int)node.Start.Column);

        private void Error(YamlNode node, string message) => Errors.Add(new WorkflowError(file, (int)node.Start.Line, (int)node.Start.Column, message));

        public YamlMappingNode? Parse(string text)
        {
            if (text.Length > MaxFileBytes)
            {
                Errors.Add(new WorkflowError(file, 0, 0, $"the workflow is {text.Length:N0} characters; workflow files are limited to {MaxFileBytes:N0} bytes"));
                return null;
            }

            try
            {
                var parser = new Parser(new StringReader(text));
                var depth = 0;
                while (parser.MoveNext())
                {
                    switch (parser.Current)
                    {
                        case MappingStart or SequenceStart when ++depth > MaxDepth:
                            Errors.Add(new WorkflowError(file, (int)parser.Current.Start.Line, (int)parser.Current.Start.Column, $"nested deeper than {MaxDepth} levels"));
                            return null;
                        case MappingEnd or SequenceEnd:
                            depth--;
                            break;
                    }
                }

                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
                {
                    Errors.Add(new WorkflowError(file, 1, 1, "expected a workflow: a mapping with version and tasks"));
                    return null;
                }

                if (stream.Documents.Count > 1)
                {
                    Error(stream.Documents[1].RootNode, "a workflow file holds one YAML document; found more");
                    return null;
                }

                return mapping;
            }
            catch (YamlException ex)
            {
                Errors.Add(new WorkflowError(file, (int)ex.Start.Line, (int)ex.Start.Column, ex.InnerException?.Message ?? ex.Message));
                return null;
            }
        }

        public WorkflowDefinition? Workflow(YamlMappingNode root)
        {
            CheckFields(root, TopLevelFields, "workflow");
            var version = Scalar(root, "version");
            if (version is null)
            {
                Error(root, "missing 'version': write version: 1.0");
            }
            else if (version.Value is not ("1.0" or "1"))
            {
                Error(version, $"version '{version.Value}' is not supported; this engine runs Orquesta's version 1.0");
            }

            var inputs = NamedList(root, "input", allowBareNames: true);
            var vars = NamedList(root, "vars", allowBareNames: false);
            var output = NamedList(root, "output", allowBareNames: false);
            var tasksNode = Child(root, "tasks");
            if (tasksNode is not YamlMappingNode tasksMap || tasksMap.Children.Count == 0)
            {
                Error(tasksNode ?? root, "a workflow needs 'tasks': a mapping of task names to tasks");
                return null;
            }

            if (tasksMap.Children.Count > MaxTasks)
            {
                Error(tasksMap, $"{tasksMap.Children.Count:N0} tasks; a workflow may have at most {MaxTasks:N0}");
                return null;
            }

            var tasks = new List<TaskDefinition>();
            foreach (var (keyNode, value) in tasksMap.Children)
            {
                var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                if (!NamePattern().IsMatch(name))
                {
                    Error(keyNode, $"task name '{name}' must be letters, digits and underscores");
                    continue;
                }

                if (WorkflowGraph.IsEngineCommand(name))
                {
                    Error(keyNode, $"'{name}' is an engine command and cannot name a task");
                    continue;
                }

                if (Task(name, keyNode, value) is { } task)
                {
                    tasks.Add(task);
                }
            }

            var description = Scalar(root, "description")?.Value;
            return Errors.Count > 0 ? null : new WorkflowDefinition
            {
                SourceFile = file,
                Description = description,
                Inputs = inputs,
                Vars = vars,
                Output = output,
                Tasks = tasks,
            };
        }

        private TaskDefinition? Task(string name, YamlNode keyNode, YamlNode node)
        {
            if (YamlFields.IsNull(node))
            {
                return new TaskDefinition { Name = name, Position = At(keyNode) };
            }

            if (node is not YamlMappingNode map)
            {
                Error(node, $"task '{name}' must be a mapping (action, input, next, …)");
                return null;
            }

            var before = Errors.Count;
            CheckFields(map, TaskFields, $"task '{name}'");
            string? action = null;
            JsonNode? input = null;
            if (Scalar(map, "action") is { } actionNode)
            {
                var (reference, pairs, error) = InlineParameters.SplitAction(actionNode.Value ?? string.Empty);
                if (error is not null)
                {
                    Error(actionNode, $"task '{name}': action '{reference}' has inline parameters that do not read: {error}");
                }
                else if (reference.Length == 0)
                {
                    Error(actionNode, $"task '{name}' has an empty action");
                }
                else
                {
                    action = reference;
                    CheckExpression(actionNode, reference);
                    if (pairs is not null)
                    {
                        if (Child(map, "input") is { } both)
                        {
                            Error(both, $"task '{name}' gives parameters both inline after its action and in 'input'; use one");
                        }

                        var obj = new JsonObject();
                        foreach (var (key, value) in pairs)
                        {
                            obj[key] = value;
                            CheckExpressions(actionNode, value);
                        }

                        input = obj;
                    }
                }
            }
            else if (Child(map, "action") is { } bad && !YamlFields.IsNull(bad))
            {
                Error(bad, $"task '{name}': 'action' must be an action reference such as core.echo");
            }

            if (Child(map, "input") is { } inputNode && input is null)
            {
                if (inputNode is YamlMappingNode or YamlScalarNode && !YamlFields.IsNull(inputNode))
                {
                    CheckExpressionsIn(inputNode);
                    input = YamlFields.ToJson(inputNode);
                }
                else
                {
                    Error(inputNode, $"task '{name}': 'input' must be a mapping of parameters, or one expression that gives one");
                }
            }

            var task = new TaskDefinition
            {
                Name = name,
                Position = At(keyNode),
                Action = action,
                Input = input,
                Join = Join(map, name),
                With = Items(map, name),
                Retry = Retry(map, name),
                Delay = NumberOrExpression(map, "delay", name),
                Next = Transitions(map, name),
            };
            return Errors.Count > before ? null : task;
        }

        private JoinDefinition? Join(YamlMappingNode map, string task)
        {
            if (Scalar(map, "join") is not { } node)
            {
                return null;
            }

            if (node.Value == "all")
            {
                return new JoinDefinition(null, At(node));
            }

            if (int.TryParse(node.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0)
            {
                return new JoinDefinition(count, At(node));
            }

            Error(node, $"task '{task}': join must be 'all' or a number of branches (1 or more), not '{node.Value}'");
            return null;
        }

        private ItemsDefinition? Items(YamlMappingNode map, string task)
        {
            var node = Child(map, "with");
            if (node is null || YamlFields.IsNull(node))
            {
                return null;
            }

            YamlScalarNode? items;
            JsonNode? concurrency = null;
            if (node is YamlScalarNode scalar)
            {
                items = scalar;
            }
            else if (node is YamlMappingNode with)
            {
                CheckFields(with, ["items", "concurrency"], $"task '{task}': with");
                items = Scalar(with, "items");
                concurrency = NumberOrExpression(with, "concurrency", task, minimum: 1);
                if (items is null)
                {
                    Error(node, $"task '{task}': 'with' needs 'items'");
                    return null;
                }
            }
            else
            {
                Error(node, $"task '{task}': 'with' must be an items expression or a mapping with items and concurrency");
                return null;
            }

            var match = ItemsPattern().Match(items.Value ?? string.Empty);
            var expr = match.Success ? match.Groups["expr"].Value : string.Empty;
            if (!match.Success || !IsSingleExpression(expr))
            {
                Error(items, $"task '{task}': items must be one expression, as <% ctx(hosts) %> or 'host, port in <% zip(ctx(hosts), ctx(ports)) %>'");
                return null;
            }

            CheckExpression(items, expr);
            var keys = match.Groups["keys"].Success
                ? match.Groups["keys"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                : [];
            return new ItemsDefinition(items.Value!, expr, keys, concurrency, At(node));
        }

        private static bool IsSingleExpression(string text)
        {
            var t = text.Trim();
            return (t.StartsWith("<%", StringComparison.Ordinal) && t.EndsWith("%>", StringComparison.Ordinal) && t.IndexOf("<%", 2, StringComparison.Ordinal) < 0)
                || (t.StartsWith("{{", StringComparison.Ordinal) && t.EndsWith("}}", StringComparison.Ordinal) && t.IndexOf("{{", 2, StringComparison.Ordinal) < 0);
        }

        private RetryDefinition? Retry(YamlMappingNode map, string task)
        {
            var node = Child(map, "retry");
            if (node is null || YamlFields.IsNull(node))
            {
                return null;
            }

            if (node is not YamlMappingNode retry)
            {
                Error(node, $"task '{task}': 'retry' must be a mapping with count, and optionally when and delay");
                return null;
            }

            CheckFields(retry, ["when", "count", "delay"], $"task '{task}': retry");
            var when = Scalar(retry, "when");
            if (when is not null)
            {
                CheckExpression(when, when.Value!);
            }

            var count = NumberOrExpression(retry, "count", task);
            if (Child(retry, "count") is null)
            {
                Error(retry, $"task '{task}': retry needs 'count', the most times to try again");
            }

            return new RetryDefinition(when?.Value, count, NumberOrExpression(retry, "delay", task), At(node));
        }

        private JsonValue? NumberOrExpression(YamlMappingNode map, string key, string task, int minimum = 0)
        {
            if (Scalar(map, key) is not { } node)
            {
                return null;
            }

            var text = node.Value ?? string.Empty;
            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= minimum)
            {
                return JsonValue.Create(n);
            }

            if (WorkflowExpressions.HasExpression(text))
            {
                CheckExpression(node, text);
                return JsonValue.Create(text);
            }

            Error(node, $"task '{task}': '{key}' must be a whole number of at least {minimum}, or an expression, not '{text}'");
            return null;
        }

        private List<TransitionDefinition> Transitions(YamlMappingNode map, string task)
        {
            var result = new List<TransitionDefinition>();
            var node = Child(map, "next");
            if (node is null || YamlFields.IsNull(node))
            {
                return result;
            }

            if (node is not YamlSequenceNode list)
            {
                Error(node, $"task '{task}': 'next' must be a list of transitions (- when: … do: …)");
                return result;
            }

            foreach (var item in list.Children)
            {
                if (item is not YamlMappingNode t)
                {
                    Error(item, $"task '{task}': each transition in 'next' must be a mapping with when, publish and do");
                    continue;
                }

                CheckFields(t, ["when", "publish", "do"], $"task '{task}': transition");
                var when = Scalar(t, "when");
                if (when is not null)
                {
                    CheckExpression(when, when.Value ?? string.Empty);
                }

                var publish = Publish(t, task);
                var (names, doPosition) = Do(t, task);
                result.Add(new TransitionDefinition(result.Count, when?.Value, publish, names, At(t)) { DoPosition = doPosition ?? At(t) });
            }

            return result;
        }

        private List<NamedValue> Publish(YamlMappingNode transition, string task)
        {
            var node = Child(transition, "publish");
            if (node is null || YamlFields.IsNull(node))
            {
                return [];
            }

            if (node is YamlScalarNode scalar)
            {
                var (pairs, error) = InlineParameters.Parse(scalar.Value ?? string.Empty);
                if (error is not null)
                {
                    Error(scalar, $"task '{task}': publish does not read: {error}");
                    return [];
                }

                foreach (var (_, value) in pairs!)
                {
                    CheckExpressions(scalar, value);
                }

                return [.. pairs!.Select(p => new NamedValue(p.Key, p.Value, true, At(scalar)))];
            }

            return NamedItems(node, $"task '{task}': publish", allowBareNames: false);
        }

        private (List<string> Names, SourcePosition? Position) Do(YamlMappingNode transition, string task)
        {
            var node = Child(transition, "do");
            if (node is null || YamlFields.IsNull(node))
            {
                return (["continue"], null);
            }

            var names = new List<string>();
            IEnumerable<YamlNode> items = node switch
            {
                YamlScalarNode => [node],
                YamlSequenceNode seq => seq.Children,
                _ => [],
            };
            if (node is YamlMappingNode)
            {
                Error(node, $"task '{task}': 'do' must be a task name, names separated by commas, or a list of names");
            }

            foreach (var item in items)
            {
                if (item is not YamlScalarNode s || string.IsNullOrWhiteSpace(s.Value))
                {
                    Error(item, $"task '{task}': each entry of 'do' must be a task name");
                    continue;
                }

                foreach (var name in s.Value.Split(',', StringSplitOptions.TrimEntries))
                {
                    if (!NamePattern().IsMatch(name))
                    {
                        Error(item, $"task '{task}': '{name}' in 'do' is not a task name");
                    }
                    else if (names.Contains(name))
                    {
                        Error(item, $"task '{task}': '{name}' appears twice in the same 'do'");
                    }
                    else
                    {
                        names.Add(name);
                    }
                }
            }

            return (names.Count == 0 ? ["continue"] : names, At(node));
        }

        private List<NamedValue> NamedList(YamlMappingNode root, string key, bool allowBareNames)
        {
            var node = Child(root, key);
            return node is null || YamlFields.IsNull(node) ? [] : NamedItems(node, $"'{key}'", allowBareNames);
        }

        /// <summary>A list of one-key mappings (<c>- name: value</c>), or of bare names when allowed; a plain mapping is accepted too.</summary>
        private List<NamedValue> NamedItems(YamlNode node, string what, bool allowBareNames)
        {
            var result = new List<NamedValue>();
            IEnumerable<(YamlNode Key, YamlNode? Value)> entries;
            if (node is YamlSequenceNode seq)
            {
                var list = new List<(YamlNode, YamlNode?)>();
                foreach (var item in seq.Children)
                {
                    if (item is YamlMappingNode { Children.Count: 1 } one)
                    {
                        var (k, v) = one.Children.First();
                        list.Add((k, v));
                    }
                    else if (allowBareNames && item is YamlScalarNode)
                    {
                        list.Add((item, null));
                    }
                    else
                    {
                        Error(item, allowBareNames
                            ? $"{what}: each entry must be a name, or one 'name: default' pair"
                            : $"{what}: each entry must be one 'name: value' pair");
                    }
                }

                entries = list;
            }
            else if (node is YamlMappingNode map)
            {
                entries = map.Children.Select(kv => (kv.Key, (YamlNode?)kv.Value));
            }
            else
            {
                Error(node, $"{what} must be a list of 'name: value' entries");
                return result;
            }

            foreach (var (keyNode, valueNode) in entries)
            {
                var name = (keyNode as YamlScalarNode)?.Value ?? string.Empty;
                if (!NamePattern().IsMatch(name))
                {
                    Error(keyNode, $"{what}: '{name}' is not a valid name (letters, digits, underscores)");
                    continue;
                }

                if (result.Any(r => r.Name == name))
                {
                    Error(keyNode, $"{what}: '{name}' is given twice");
                    continue;
                }

                if (valueNode is not null)
                {
                    CheckExpressionsIn(valueNode);
                }

                result.Add(new NamedValue(name, valueNode is null ? null : YamlFields.ToJson(valueNode), valueNode is not null, At(keyNode)));
            }

            return result;
        }

        private void CheckFields(YamlMappingNode map, string[] allowed, string what)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value ?? string.Empty;
                if (!allowed.Contains(name, StringComparer.Ordinal))
                {
                    Error(key, $"{what}: unknown field '{name}'; expected one of {string.Join(", ", allowed)}");
                }
            }
        }

        private static YamlNode? Child(YamlMappingNode map, string key) =>
            map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

        private YamlScalarNode? Scalar(YamlMappingNode map, string key)
        {
            var node = Child(map, key);
            if (node is null || YamlFields.IsNull(node))
            {
                return null;
            }

            if (node is YamlScalarNode scalar)
            {
                return scalar;
            }

            Error(node, $"'{key}' must be a single value");
            return null;
        }

        /// <summary>Checks every string in a YAML value for expressions that do not parse.</summary>
        private void CheckExpressionsIn(YamlNode node)
        {
            switch (node)
            {
                case YamlScalarNode s when s.Value is not null:
                    CheckExpression(s, s.Value);
                    break;
                case YamlSequenceNode seq:
                    foreach (var child in seq.Children)
                    {
                        CheckExpressionsIn(child);
                    }

                    break;
                case YamlMappingNode map:
                    foreach (var (_, child) in map.Children)
                    {
                        CheckExpressionsIn(child);
                    }

                    break;
            }
        }

        /// <summary>Checks the strings inside a value parsed from inline parameters; errors point at the scalar they came from.</summary>
        private void CheckExpressions(YamlNode at, JsonNode? value)
        {
            switch (value)
            {
                case JsonValue v when v.TryGetValue<string>(out var s):
                    CheckExpression(at, s);
                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        CheckExpressions(at, item);
                    }

                    break;
                case JsonObject o:
                    foreach (var (_, item) in o)
                    {
                        CheckExpressions(at, item);
                    }

                    break;
            }
        }

        private void CheckExpression(YamlNode node, string text)
        {
            if (expressions.Check(text) is not { } ex)
            {
                return;
            }

            var quoted = node is YamlScalarNode { Style: ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted } ? 1 : 0;
            var line = (int)node.Start.Line + Math.Max(0, ex.Line - 1);
            var column = ex.Line <= 1 && node is YamlScalarNode { Style: not (ScalarStyle.Literal or ScalarStyle.Folded) }
                ? (int)node.Start.Column + quoted + Math.Max(0, ex.Column - 1)
                : (int)node.Start.Column;
            var message = ex.Message;
            var cut = message.IndexOf(" at line ", StringComparison.Ordinal);
            Errors.Add(new WorkflowError(file, line, column, $"expression does not parse: {(cut > 0 ? message[..cut] : message)}"));
        }
    }
}
