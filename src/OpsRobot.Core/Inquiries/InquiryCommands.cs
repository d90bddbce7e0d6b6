using OpsRobot.Core.Chat;
using OpsRobot.Core.Commands;
using OpsRobot.Core.Text;

namespace OpsRobot.Core.Inquiries;

/// <summary><c>approve ID [comment]</c>: approve an approve/deny inquiry; its workflow goes on.</summary>
public sealed class ApproveCommand(InquiryService inquiries) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "approve", "approve ID [comment]", "Approve an inquiry a workflow asked; the workflow goes on.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        InquiryCommand.ExecuteAsync(context, Info, "approve 12 looks good",
            (id, responder, rest) => inquiries.ApproveAsync(id, responder, rest, cancellationToken));
}

/// <summary><c>deny ID [reason]</c>: deny an inquiry; its ask task fails.</summary>
public sealed class DenyCommand(InquiryService inquiries) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "deny", "deny ID [reason]", "Deny an inquiry a workflow asked; its ask task fails.");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        InquiryCommand.ExecuteAsync(context, Info, "deny 12 not during the freeze",
            (id, responder, rest) => inquiries.DenyAsync(id, responder, rest, cancellationToken));
}

/// <summary><c>answer ID key=value …</c>: answer an inquiry with values, checked against its schema.</summary>
public sealed class AnswerCommand(InquiryService inquiries) : IRobotCommand
{
    public CommandInfo Info { get; } = new("core", "answer", "answer ID key=value …", "Answer an inquiry with values (quote values with spaces: note=\"two words\").");

    public ValueTask<OutgoingMessage> ExecuteAsync(CommandContext context, CancellationToken cancellationToken) =>
        InquiryCommand.ExecuteAsync(context, Info, "answer 12 version=1.4.2 canary=true",
            (id, responder, rest) => inquiries.AnswerPairsAsync(id, responder, rest ?? string.Empty, cancellationToken));
}

/// <summary>What the three commands share: the inquiry number, who answers from where, and the answer in the room.</summary>
internal static class InquiryCommand
{
    public static async ValueTask<OutgoingMessage> ExecuteAsync(
        CommandContext context, CommandInfo info, string example, Func<long, InquiryResponder, string?, Task<InquiryRecord>> answer)
    {
        ArgumentNullException.ThrowIfNull(context);
        var words = context.Arguments.Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length == 0 || !BuiltIn.ExecutionIds.TryParse(words[0], out var id))
        {
            return new OutgoingMessage(
                $"Usage: {Markdown.Code(context.Options.CommandPrefix + info.Usage)}, e.g. {Markdown.Code(context.Options.CommandPrefix + example)} (the inquiry's number is in its question).");
        }

        var message = context.Message;
        var principal = context.Principal;
        var responder = new InquiryResponder(
            principal,
            principal?.Name ?? $"{message.Platform}:{message.Sender.Name}",
            Access.Doors.Chat,
            $"{message.Platform}:{message.Room.Name}")
        {
            Room = (message.Platform, message.Room.Id, message.Room.Name),
        };
        try
        {
            var answered = await answer(id, responder, words.Length > 1 ? words[1] : null).ConfigureAwait(false);
            return new OutgoingMessage(InquiryService.AnswerSentence(answered)) { ThreadId = message.ThreadId };
        }
        catch (InquiryException ex)
        {
            return new OutgoingMessage(ex.Message) { ThreadId = message.ThreadId };
        }
    }
}
