using System.CommandLine;
using OpsRobot.Core.Workflows;
using OpsRobot.Core.Workflows.Expressions;
using OpsRobot.Core.Workflows.Rehearsal;

namespace OpsRobot.Cli;

/// <summary>
/// Offline workflow verbs, for workflow authors and CI: <c>workflow rehearse SPEC…</c> runs workflows with mocked
/// action results (orquesta-rehearse's spec format) and <c>workflow validate FILE…</c> checks workflow files. They
/// read files only; no server, no store.
/// </summary>
internal static class WorkflowVerbs
{
    public static void Add(RootCommand root)
    {
        var specs = new Argument<string[]>("SPEC") { Description = "Rehearsal spec files (orquesta-rehearse format)", Arity = ArgumentArity.OneOrMore };
        var rehearse = new Command("rehearse", "Run workflows with mocked action results and check the expected task sequence, status, output and errors. Exit 0 when every expectation holds, 1 otherwise.")
        {
            specs,
        };
        rehearse.SetAction(r => Rehearse(r.GetValue(specs)!));

        var files = new Argument<string[]>("FILE") { Description = "Workflow files", Arity = ArgumentArity.OneOrMore };
        var validate = new Command("validate", "Check workflow files without running them: every error with file:line:col. Exit 0 when all load, 1 otherwise.")
        {
            files,
        };
        validate.SetAction(r => Validate(r.GetValue(files)!));

        root.Subcommands.Add(new Command("workflow", "Check and rehearse workflows.") { rehearse, validate });
    }

    private static int Rehearse(string[] specs)
    {
        var expressions = new WorkflowExpressions();
        var rehearsal = new WorkflowRehearsal(new WorkflowLoader(expressions), expressions);
        var failed = 0;
        foreach (var spec in specs)
        {
            if (!File.Exists(spec))
            {
                Console.Error.WriteLine($"opsrobot: {Path.GetFullPath(spec)} does not exist.");
                return 2;
            }

            RehearsalResult result;
            try
            {
                result = rehearsal.Run(spec);
            }
            catch (WorkflowLoadException ex)
            {
                failed++;
                Console.Out.WriteLine($"error  {spec}: the spec does not read");
                foreach (var error in ex.Errors)
                {
                    Console.Out.WriteLine($"       {error}");
                }

                continue;
            }

            if (result.Passed)
            {
                Console.Out.WriteLine($"ok     {spec}: {result.TaskSequence.Count} task run(s), workflow {result.WorkflowStatus}");
                continue;
            }

            failed++;
            Console.Out.WriteLine($"FAILED {spec} ({result.Spec.Workflow})");
            foreach (var difference in result.Differences)
            {
                foreach (var line in difference.Split('\n'))
                {
                    Console.Out.WriteLine($"       {line.TrimEnd('\r')}");
                }
            }
        }

        Console.Error.WriteLine(failed == 0
            ? $"{specs.Length} rehearsal(s) passed."
            : $"{failed} of {specs.Length} rehearsal(s) failed.");
        return failed == 0 ? 0 : 1;
    }

    private static int Validate(string[] files)
    {
        var loader = new WorkflowLoader(new WorkflowExpressions());
        var failed = 0;
        foreach (var file in files)
        {
            try
            {
                var graph = loader.LoadFile(file);
                Console.Out.WriteLine($"ok     {file}: {graph.Definition.Tasks.Count} task(s)");
            }
            catch (WorkflowLoadException ex)
            {
                failed++;
                foreach (var error in ex.Errors)
                {
                    Console.Out.WriteLine($"error  {error}");
                }
            }
        }

        Console.Error.WriteLine(failed == 0 ? $"{files.Length} workflow(s) loaded." : $"{failed} of {files.Length} workflow(s) have errors.");
        return failed == 0 ? 0 : 1;
    }
}
