<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Atelier::MainWindow</name>
    <message>
        <source>About Atelier</source>
        <translation>关于 Atelier</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;Queue Stable Diffusion prompts and render them on every GPU at once.&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</source>
        <translation>&lt;h3&gt;Atelier %1&lt;/h3&gt;&lt;p&gt;排队 Stable Diffusion 提示词，并在所有 GPU 上同时生成图像。&lt;/p&gt;&lt;pre&gt;%2&lt;/pre&gt;</translation>
    </message>
    <message>
        <source>Atelier</source>
        <translation>Atelier</translation>
    </message>
    <message>
        <source>&amp;Prompt</source>
        <translation>提示词(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Negative prompt</source>
        <translation>反向提示词(&amp;N)</translation>
    </message>
    <message>
        <source>Describe the image, e.g. a lighthouse at dusk, oil painting</source>
        <translation>描述图像，例如：黄昏时的灯塔，油画</translation>
    </message>
    <message>
        <source>What to avoid, e.g. blurry, low quality</source>
        <translation>需要避免的内容，例如：模糊，低质量</translation>
    </message>
    <message>
        <source>&amp;Add to queue</source>
        <translation>加入队列(&amp;A)</translation>
    </message>
    <message>
        <source>Queue this prompt (Ctrl+Enter)</source>
        <translation>将此提示词加入队列 (Ctrl+Enter)</translation>
    </message>
    <message>
        <source>&amp;Remove</source>
        <translation>移除(&amp;R)</translation>
    </message>
    <message>
        <source>Queue</source>
        <translation>队列</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;About Atelier</source>
        <translation>关于 Atelier(&amp;A)</translation>
    </message>
    <message numerus="yes">
        <source>%n prompt(s) queued</source>
        <translation>
            <numerusform>队列中有 %n 个提示词</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Imported %n prompt(s)</source>
        <translation>
            <numerusform>已导入 %n 个提示词</numerusform>
        </translation>
    </message>
    <message>
        <source>Import problems</source>
        <translation>导入问题</translation>
    </message>
    <message numerus="yes">
        <source>%n line(s) could not be imported; the rest were queued.</source>
        <translation>
            <numerusform>%n 行无法导入；其余已加入队列。</numerusform>
        </translation>
    </message>
    <message>
        <source>Import prompts</source>
        <translation>导入提示词</translation>
    </message>
    <message>
        <source>Prompt files (*.txt *.csv *.json *.jsonl);;All files (*)</source>
        <translation>提示词文件 (*.txt *.csv *.json *.jsonl);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&amp;Import prompts…</source>
        <translation>导入提示词(&amp;I)…</translation>
    </message>
</context>
</TS>
