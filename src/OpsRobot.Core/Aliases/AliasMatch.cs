namespace OpsRobot.Core.Aliases;

/// <summary>
/// What a format extracted from a text. Every value is the exact string the user typed (quotes removed, nothing
/// converted): typing against the action's parameter schema happens later.
/// </summary>
/// <param name="Parameters">
/// The format's parameters, in format order: each value captured by a <c>{{name}}</c>, <c>{{name=default}}</c> or
/// named regex group, the default of an optional parameter the text left out, and, as in StackStorm, a trailing
/// <c>name=value</c> pair named after one of the format's parameters replaces that parameter's value.
/// </param>
/// <param name="ExtraParameters">
/// The trailing <c>key=value</c> pairs whose key is not one of the format's parameters, in the order typed; when a key
/// is given twice the last value wins (it keeps the place of the first).
/// </param>
public sealed record AliasMatch(IReadOnlyDictionary<string, string> Parameters, IReadOnlyDictionary<string, string> ExtraParameters)
{
    /// <summary>
    /// Everything, merged as StackStorm merges it into the execution parameters (st2common
    /// <c>ActionAliasFormatParser.match_params_in_stream</c>): <see cref="Parameters"/> first, then
    /// <see cref="ExtraParameters"/>. The two never share a key, because a pair named after a format parameter has
    /// already replaced that parameter's value.
    /// </summary>
    public IReadOnlyDictionary<string, string> All { get; } = Merge(Parameters, ExtraParameters);

    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> parameters, IReadOnlyDictionary<string, string> extra)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(extra);
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            all[key] = value;
        }

        foreach (var (key, value) in extra)
        {
            all[key] = value;
        }

        return all;
    }
}
