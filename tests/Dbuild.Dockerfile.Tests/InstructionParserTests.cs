namespace Dbuild.Dockerfile.Tests;

public sealed class InstructionParserTests
{
    private static IReadOnlyList<Instruction> ParseAll(string text) => InstructionParser.ParseAll(DockerfileParser.Parse(text));

    private static T Single<T>(string line) where T : Instruction => Assert.IsType<T>(ParseAll("FROM scratch\n" + line + "\n")[1]);

    private static DockerfileSyntaxException Fails(string line) =>
        Assert.Throws<DockerfileSyntaxException>(() => ParseAll("FROM scratch\n" + line + "\n"));

    [Fact]
    public void From_PlatformAndStageName_Parsed()
    {
        var from = Assert.IsType<FromInstruction>(ParseAll("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\n")[0]);
        Assert.Equal(("golang:1.22", "build", "Build", "AS", "$BUILDPLATFORM"), (from.BaseName, from.StageName, from.StageNameAsWritten, from.AsKeyword, from.Platform));
        Assert.Equal(new SourceRange(1, 1, 1), from.Location);
    }

    [Theory]
    [InlineData("FROM a b", "FROM requires either one or three arguments")]
    [InlineData("FROM a AS 1x", "invalid name for build stage: \"1x\", name can't start with a number or contain symbols")]
    [InlineData("FROM --plaform=x a", "unknown flag: plaform (did you mean platform?)")]
    public void From_Invalid_Throws(string line, string message) =>
        Assert.Equal(message, Assert.Throws<DockerfileSyntaxException>(() => ParseAll(line + "\n")).Reason);

    [Fact]
    public void Unknown_Instruction_SuggestsClosest()
    {
        var ex = Fails("RUNN echo");
        Assert.Equal("unknown instruction: RUNN (did you mean RUN?)", ex.Reason);
        Assert.Equal("Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)\n    2 | RUNN echo", ex.Message);
    }

    [Fact]
    public void Unknown_Flag_And_Duplicate_Throw()
    {
        Assert.Equal("unknown flag: lnk (did you mean link?)", Fails("COPY --lnk a b").Reason);
        Assert.Equal("duplicate flag specified: from", Fails("COPY --from=a --from=b a b").Reason);
        Assert.Equal("unknown flag: mount", Fails("CMD --mount=x a").Reason);
        Assert.Equal("expecting boolean value for flag link, not: yes", Fails("COPY --link=yes a b").Reason);
        Assert.Equal("missing a value on flag: from", Fails("COPY --from a b").Reason);
    }

    [Fact]
    public void Flag_Error_PointsAtTheFlag()
    {
        var ex = Fails("COPY --link --chmod=0644 --lnk a b");
        Assert.Equal((2, 26), (ex.Line, ex.Column));
        Assert.StartsWith("Dockerfile:2:26: unknown flag: lnk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Mounts_AllTypesWithDefaults()
    {
        var run = Single<RunInstruction>(
            "RUN --mount=type=bind,source=src,target=/src --mount=type=cache,target=/root/.cache,sharing=locked,mode=0700,uid=1000 " +
            "--mount=type=tmpfs,target=/tmp,size=64m --mount=type=secret,id=npmrc,env=NPM_TOKEN --mount=type=ssh,required " +
            "--mount=target=/ctx --network=none --security=insecure make");
        Assert.Collection(run.Mounts,
            m => Assert.Equal((MountType.Bind, "src", "/src", true), (m.Type, m.Source, m.Target, m.ReadOnly)),
            m => Assert.Equal((MountType.Cache, "/root/.cache", false, CacheSharing.Locked, 0x1C0u, 1000u, "/root/.cache"), (m.Type, m.Target, m.ReadOnly, m.Sharing, m.EffectiveMode, m.Uid!.Value, m.Id)),
            m => Assert.Equal((MountType.Tmpfs, false, 64L * 1024 * 1024), (m.Type, m.ReadOnly, m.SizeLimit)),
            m => Assert.Equal((MountType.Secret, "npmrc", "NPM_TOKEN", true, false, 0x100u), (m.Type, m.Id, m.Env, m.ReadOnly, m.Required, m.EffectiveMode)),
            m => Assert.Equal((MountType.Ssh, "default", true, true, 0x180u), (m.Type, m.Id, m.Required, m.ReadOnly, m.EffectiveMode)),
            m => Assert.Equal((MountType.Bind, "/ctx", true), (m.Type, m.Target, m.ReadOnly)));
        Assert.Equal((NetworkMode.None, SecurityMode.Insecure), (run.Network, run.Security));
        Assert.Equal(["make"], run.Command.Arguments);
    }

    [Fact]
    public void Run_SecretDefaults_TargetFromId()
    {
        RunMount m = RunMount.Parse("type=secret,id=aws");
        Assert.Equal(("aws", "/run/secrets/aws"), (m.Id, m.Target));
        Assert.Equal("cfg", RunMount.Parse("type=secret,target=/etc/cfg").Id);
    }

    [Theory]
    [InlineData("type=nfs,target=/x", "unsupported mount type \"nfs\"")]
    [InlineData("type=bind,target=/x,sharing=locked", "invalid cache sharing set for bind mount")]
    [InlineData("type=bind,target=/x,mode=0700", "mode not allowed for \"bind\" type mounts")]
    [InlineData("type=cache,target=/x,size=1m", "unexpected key 'size' for mount type 'cache'")]
    [InlineData("type=cache,target=/x,targt=/y", "unexpected key 'targt' in 'targt=/y' (did you mean target?)")]
    [InlineData("type=secret", "invalid secret mount. one of source, target required")]
    [InlineData("type=bind,target=/x,from=$STAGE", "'from' doesn't support variable expansion, define alias stage instead")]
    [InlineData("type=cache,target=/x,bogus", "invalid field 'bogus' must be a key=value pair")]
    public void RunMount_Invalid_Throws(string spec, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => RunMount.Parse(spec)).Message);

    [Fact]
    public void Run_ExecForm_NoShell()
    {
        var run = Single<RunInstruction>("RUN [\"echo\", \"hi\"]");
        Assert.Equal((false, 2), (run.Command.PrependShell, run.Command.Arguments.Count));
    }

    [Fact]
    public void Copy_AllFlags()
    {
        var copy = Single<CopyInstruction>("COPY --from=build --chown=1000:1000 --chmod=u=rwx,go=rx --link --parents --exclude=*.md --exclude=.git a b /dst/");
        Assert.Equal(("build", "1000:1000", "u=rwx,go=rx", true, true), (copy.From, copy.Chown, copy.Chmod, copy.Link, copy.Parents));
        Assert.Equal(["*.md", ".git"], copy.Excludes);
        Assert.Equal(["a", "b"], copy.Sources);
        Assert.Equal("/dst/", copy.Destination);
    }

    [Fact]
    public void Add_AllFlags()
    {
        var add = Single<AddInstruction>("ADD --checksum=sha256:0123 --keep-git-dir --unpack=false --chmod=0644 https://x/y.tgz /y");
        Assert.Equal(("sha256:0123", true, (bool?)false, "0644"), (add.Checksum, add.KeepGitDir, add.Unpack, add.Chmod));
    }

    [Theory]
    [InlineData("COPY a", "COPY requires at least two arguments, but only one was provided. Destination could not be determined.")]
    [InlineData("COPY --chmod=999 a b", "invalid chmod parameter \"999\": use an octal mode (0755) or a symbolic one (u=rwx,go=rx)")]
    [InlineData("ADD --checksum a", "missing a value on flag: checksum")]
    [InlineData("SHELL /bin/sh -c", "SHELL requires the arguments to be in JSON form")]
    [InlineData("USER", "USER requires exactly one argument")]
    [InlineData("WORKDIR", "WORKDIR requires exactly one argument")]
    [InlineData("EXPOSE", "EXPOSE requires at least one argument")]
    [InlineData("ONBUILD FROM x", "FROM isn't allowed as an ONBUILD trigger")]
    [InlineData("ONBUILD MAINTAINER x", "MAINTAINER isn't allowed as an ONBUILD trigger")]
    [InlineData("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")]
    [InlineData("HEALTHCHECK --interval=10 CMD x", "time: missing unit in duration \"10\"")]
    [InlineData("HEALTHCHECK --interval=1us CMD x", "Interval \"interval\" cannot be less than 1ms")]
    [InlineData("HEALTHCHECK --retries=-1 CMD x", "--retries cannot be negative (-1)")]
    [InlineData("HEALTHCHECK NONE x", "HEALTHCHECK NONE takes no arguments")]
    [InlineData("HEALTHCHECK CONNECT x", "Unknown type \"CONNECT\" in HEALTHCHECK (try CMD)")]
    [InlineData("HEALTHCHECK CMD", "Missing command after HEALTHCHECK CMD")]
    [InlineData("ENV a", "ENV must have two arguments")]
    [InlineData("ENV a=b c", "Syntax error - can't find = in \"c\". Must be of the form: name=value")]
    public void Invalid_Throws(string line, string message) => Assert.Equal(message, Fails(line).Reason);

    [Fact]
    public void Healthcheck_DurationsAndTest()
    {
        var h = Single<HealthcheckInstruction>("HEALTHCHECK --interval=1m30s --timeout=2.5s --start-period=100ms --start-interval=1s --retries=3 CMD curl -f http://localhost/");
        Assert.Equal(["CMD-SHELL", "curl -f http://localhost/"], h.Test);
        Assert.Equal((TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(2.5), TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 3),
            (h.Interval, h.Timeout, h.StartPeriod, h.StartInterval, h.Retries));
        Assert.Equal(["NONE"], Single<HealthcheckInstruction>("HEALTHCHECK NONE").Test);
        Assert.Equal(["CMD", "a", "b"], Single<HealthcheckInstruction>("HEALTHCHECK CMD [\"a\", \"b\"]").Test);
    }

    [Fact]
    public void Onbuild_TriggerParsed()
    {
        var onbuild = Single<OnbuildInstruction>("ONBUILD COPY --chown=app . /src");
        Assert.Equal("COPY --chown=app . /src", onbuild.Expression);
        Assert.Equal("app", Assert.IsType<CopyInstruction>(onbuild.Trigger).Chown);
    }

    [Fact]
    public void EnvLabelArg_Pairs()
    {
        var env = Single<EnvInstruction>("ENV a=1 b=\"two words\"");
        Assert.Equal([new KeyValue("a", "1"), new KeyValue("b", "\"two words\"")], env.Pairs);
        Assert.True(Single<EnvInstruction>("ENV legacy value here").Pairs[0].NoDelimiter);
        var arg = Single<ArgInstruction>("ARG A B=2 C=");
        Assert.Equal([new ArgDefinition("A", null), new ArgDefinition("B", "2"), new ArgDefinition("C", "")], arg.Args);
    }

    [Theory]
    [InlineData("0755", 0x1EDu)]
    [InlineData("644", 0x1A4u)]
    public void FileMode_Octal(string text, uint expected)
    {
        Assert.True(FileMode.TryParse(text, out FileMode? mode));
        Assert.Equal(expected, mode.Octal);
    }

    [Theory]
    [InlineData("u=rwx,go=rx", 0u, false, 0x1EDu)]
    [InlineData("+x", 0x1A4u, false, 0x1EDu)]
    [InlineData("go-w", 0x1FFu, false, 0x1EDu)]
    [InlineData("a=rX", 0x180u, true, 0x16Du)]
    public void FileMode_Symbolic_Applies(string text, uint existing, bool directory, uint expected)
    {
        Assert.True(FileMode.TryParse(text, out FileMode? mode));
        Assert.Equal(expected, mode.Apply(existing, directory));
    }

    [Theory]
    [InlineData("1h", 36000000000L)]
    [InlineData("1.5s", 15000000L)]
    [InlineData("300ms", 3000000L)]
    [InlineData("2h45m", 99000000000L)]
    [InlineData("0", 0L)]
    public void GoDuration_Parses(string text, long ticks) => Assert.Equal(TimeSpan.FromTicks(ticks), GoDuration.Parse(text));

    [Fact]
    public void Heredocs_ResolvedForCopyAndRun()
    {
        IReadOnlyList<Instruction> all = ParseAll("FROM scratch\nCOPY <<-\"CONF\" /etc/app.conf\n\tkey=1\n\tCONF\nRUN <<EOF\necho hi\nEOF\nRUN cat <<EOF\nx\nEOF\n");
        var copy = Assert.IsType<CopyInstruction>(all[1]);
        Heredoc conf = Assert.IsType<Heredoc>(copy.HeredocFor(copy.Sources[0]));
        Assert.Equal(("CONF", false, true, "key=1\n"), (conf.Name, conf.Expand, conf.Chomp, conf.EffectiveContent));
        Assert.Null(copy.HeredocFor("/etc/app.conf"));
        Assert.Equal("echo hi\n", Assert.IsType<RunInstruction>(all[2]).Script?.Content);
        Assert.Null(Assert.IsType<RunInstruction>(all[3]).Script);
    }
}
